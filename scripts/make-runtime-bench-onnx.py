#!/usr/bin/env python3
"""Exports the bundled MNIST models (models/mnist-mlp, models/mnist-cnn: TF.js files) to ONNX with
torch.onnx.export, for `npm run bench:runtime` (onnxruntime-web runs them). The same weights in
PyTorch layouts: Dense kernels [in, units] become Linear weights [units, in], Conv2D kernels
[kh, kw, inC, outC] become [outC, inC, kh, kw], and fc1's rows are permuted from TF.js's H, W, C
flatten order to PyTorch's C, H, W. Run once with Debian's python3-torch and python3-onnx:

    /usr/bin/python3 scripts/make-runtime-bench-onnx.py

writes bench/models/mnist-mlp.onnx and bench/models/mnist-cnn.onnx (opset 13, dynamic batch).
"""

import json
import os

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(__file__), "..")


def weights(name):
    folder = os.path.join(ROOT, "models", name)
    manifest = json.load(open(os.path.join(folder, "model.json")))["weightsManifest"][0]["weights"]
    raw = np.fromfile(os.path.join(folder, "weights.bin"), dtype="<f4")
    out, offset = {}, 0
    for w in manifest:
        size = int(np.prod(w["shape"]))
        out[w["name"]] = raw[offset:offset + size].reshape(w["shape"])
        offset += size
    return out


def linear(w, kernel, bias):
    layer = nn.Linear(kernel.shape[0], kernel.shape[1])
    layer.weight.data = torch.tensor(np.ascontiguousarray(kernel.T))
    layer.bias.data = torch.tensor(bias)
    return layer


def conv(kernel, bias):
    kh, kw, c, f = kernel.shape
    layer = nn.Conv2d(c, f, (kh, kw))
    layer.weight.data = torch.tensor(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    layer.bias.data = torch.tensor(bias)
    return layer


def export(model, example, name):
    model.eval()
    path = os.path.join(ROOT, "bench", "models", f"{name}.onnx")
    torch.onnx.export(model, example, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print("wrote", path)


w = weights("mnist-mlp")
mlp = nn.Sequential(
    linear(w, w["hidden1/kernel"], w["hidden1/bias"]), nn.ReLU(),
    linear(w, w["hidden2/kernel"], w["hidden2/bias"]), nn.ReLU(),
    linear(w, w["logits/kernel"], w["logits/bias"]))
export(mlp, torch.zeros(1, 784), "mnist-mlp")

w = weights("mnist-cnn")
fc1 = w["fc1/kernel"]  # [256 = (h, w, c) of a 4×4×16 map, 120]
order = [(h * 4 + x) * 16 + c for c in range(16) for h in range(4) for x in range(4)]
cnn = nn.Sequential(
    conv(w["conv1/kernel"], w["conv1/bias"]), nn.ReLU(), nn.MaxPool2d(2),
    conv(w["conv2/kernel"], w["conv2/bias"]), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    linear(w, fc1[order], w["fc1/bias"]), nn.ReLU(),
    linear(w, w["logits/kernel"], w["logits/bias"]))
export(cnn, torch.zeros(1, 1, 28, 28), "mnist-cnn")
