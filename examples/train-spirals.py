"""Trains the spiral network's weights with PyTorch (called by examples/train-spirals.ts).

  /usr/bin/python3 examples/train-spirals.py <dir>

<dir> holds train-x.f32 [n, 2], train-y.u8 and settings.json, written by the TypeScript side from
examples/spirals.ts (so the data is the project's seeded spirals). Writes <dir>/weights.f32: the
kernels [in, out] and biases of hidden1, hidden2, logits in TF.js order. Full-batch Adam, one
thread, seeded. Why PyTorch: tfjs took about 0.5 s per full-batch step on this shared machine.
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

x = torch.from_numpy(np.fromfile(f"{out_dir}/train-x.f32", dtype=np.float32).reshape(-1, 2))
y = torch.from_numpy(np.fromfile(f"{out_dir}/train-y.u8", dtype=np.uint8).astype(np.int64))
net = nn.Sequential(nn.Linear(2, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 2))
opt = torch.optim.Adam(net.parameters(), lr=s["learningRate"])
for step in range(1, s["steps"] + 1):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    if step % 500 == 0:
        print(f"step {step}  loss {loss.item():.5f}", flush=True)
parts = []
for layer in (net[0], net[2], net[4]):
    parts += [layer.weight.detach().numpy().T.ravel(), layer.bias.detach().numpy().ravel()]
np.concatenate(parts).astype(np.float32).tofile(f"{out_dir}/weights.f32")
