"""Trains the bundled MNIST CNN's weights with PyTorch (called by examples/train-mnist-cnn.ts).

  /usr/bin/python3 examples/train-mnist-cnn.py <dir>

<dir> holds train-x.f32 [8000, 28, 28, 1], train-y.u8, test-x.f32, test-y.u8 and settings.json
(written by the TypeScript side from examples/mnist-data.ts, so both languages use one split).
Writes <dir>/weights.f32 (the tensors in TF.js layouts, in the order of settings.json "order")
and <dir>/result.json (accuracies). Deterministic: one thread, seeded, our own shuffle and shifts.

Why PyTorch: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel and the tfjs cpu backend
took 13 minutes per epoch here; Debian's python3-torch trains the same network in seconds.
"""
import json
import sys

import numpy as np
import torch
from torch import nn

out_dir = sys.argv[1]
s = json.load(open(f"{out_dir}/settings.json"))
torch.manual_seed(s["seed"])
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
rng = np.random.default_rng(s["seed"])


def load(name, dtype, shape):
    return np.fromfile(f"{out_dir}/{name}", dtype=dtype).reshape(shape)


train_x = load("train-x.f32", np.float32, (-1, 28, 28))
train_y = load("train-y.u8", np.uint8, (-1,)).astype(np.int64)
test_x = load("test-x.f32", np.float32, (-1, 28, 28))
test_y = load("test-y.u8", np.uint8, (-1,)).astype(np.int64)


class Net(nn.Module):
    """conv1 6@5×5 → pool → conv2 16@5×5 → pool → flatten in NHWC order → fc1 120 → logits 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(256, 120)
        self.logits = nn.Linear(120, 10)
        for m in (self.conv1, self.conv2, self.fc1, self.logits):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):  # x: [n, 1, 28, 28]
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # NHWC order, as TF.js's Flatten
        return self.logits(torch.relu(self.fc1(x)))


def shifted(images):
    """Each image translated by a random (dx, dy) in [-shift, shift], zero fill."""
    k = s["shift"]
    out = np.zeros_like(images)
    for i, img in enumerate(images):
        dx, dy = rng.integers(-k, k + 1, size=2)
        src = img[max(0, -dy):28 - max(0, dy), max(0, -dx):28 - max(0, dx)]
        out[i, max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


def accuracy(net, x, y):
    with torch.no_grad():
        pred = net(torch.from_numpy(x[:, None])).argmax(1).numpy()
    return float((pred == y).mean())


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=s["learningRate"])
for epoch in range(1, s["epochs"] + 1):
    perm = rng.permutation(len(train_y))
    total = 0.0
    for start in range(0, len(perm), s["batchSize"]):
        idx = perm[start:start + s["batchSize"]]
        xb = torch.from_numpy(shifted(train_x[idx])[:, None])
        loss = nn.functional.cross_entropy(net(xb), torch.from_numpy(train_y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    print(f"epoch {epoch:2d}  loss {total / len(perm):.4f}  test acc {100 * accuracy(net, test_x, test_y):.2f}%", flush=True)

# TF.js layouts: conv kernels [kh, kw, inC, outC] (torch [outC, inC, kh, kw]); dense [in, out].
tensors = {
    "conv1/kernel": net.conv1.weight.detach().numpy().transpose(2, 3, 1, 0),
    "conv1/bias": net.conv1.bias.detach().numpy(),
    "conv2/kernel": net.conv2.weight.detach().numpy().transpose(2, 3, 1, 0),
    "conv2/bias": net.conv2.bias.detach().numpy(),
    "fc1/kernel": net.fc1.weight.detach().numpy().T,
    "fc1/bias": net.fc1.bias.detach().numpy(),
    "logits/kernel": net.logits.weight.detach().numpy().T,
    "logits/bias": net.logits.bias.detach().numpy(),
}
np.concatenate([np.ascontiguousarray(tensors[n], dtype=np.float32).ravel() for n in s["order"]]).tofile(f"{out_dir}/weights.f32")
json.dump({"train": accuracy(net, train_x, train_y), "test": accuracy(net, test_x, test_y), "torch": torch.__version__},
          open(f"{out_dir}/result.json", "w"))
