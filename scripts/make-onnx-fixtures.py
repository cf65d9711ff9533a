#!/usr/bin/env python3
"""Generates test/fixtures/onnx/: small seeded PyTorch models exported by torch.onnx.export, and
the outputs PyTorch computes on seeded inputs. Run once by a developer with Debian's python3-torch
(1.13) and python3-onnx (1.12); tests only read the committed files:

    /usr/bin/python3 scripts/make-onnx-fixtures.py

For each model <name> and opset <k>: <name>-opset<k>.onnx and <name>.json (written once per model:
the outputs do not depend on the opset) = {input: {shape, data}, output: {shape, data}}, input in
PyTorch's NCHW (or [N, features]), float32 values written exactly (a float32 is a double).

Variants made with the onnx package from the exported MLP (same weights, same outputs):
  mlp-float-data   every initializer stored in float_data instead of raw_data;
  mlp-external     every initializer in one external file mlp-external.data next to the model;
  mlp-fp16         initializers, input and output float16 (its own .json: the outputs of the
                   float16-rounded weights computed in float32);
  matmul-extra     the MatMul model with an Identity and an inference Dropout node inserted.
Built with onnx.helper from a PyTorch model's weights (PyTorch's exporter always folds a
BatchNorm into the conv before it, so a real export never has one there):
  conv-bn          Conv without bias → BatchNormalization → Relu → Flatten → Gemm, opset 13.
"""

import json
import os

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "onnx")
BATCH = 3


class Mlp(nn.Module):
    """Linear/ReLU, Tanh, Sigmoid and a Softmax at the end."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3, self.fc4 = nn.Linear(20, 16), nn.Linear(16, 12), nn.Linear(12, 8), nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        x = torch.sigmoid(self.fc3(x))
        return torch.softmax(self.fc4(x), dim=1)


class Cnn(nn.Module):
    """Conv/ReLU/MaxPool, a Reshape to [-1, 96] (a constant shape) that flattens C,H,W, then Linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc1, self.fc2 = nn.Linear(6 * 4 * 4, 16), nn.Linear(16, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.relu(self.conv2(x))
        x = x.reshape(-1, 6 * 4 * 4)
        return self.fc2(torch.relu(self.fc1(x)))


class Branches(nn.Module):
    """Conv+BatchNorm (PyTorch folds it at export), a strided conv with symmetric padding, a residual
    Add, AveragePool with and without count_include_pad (with it, PyTorch exports a Pad node), a Concat of two convs, a BatchNorm that stays,
    GlobalAveragePool, Flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.stem, self.stem_bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.body = nn.Conv2d(8, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.left, self.right = nn.Conv2d(8, 4, 1), nn.Conv2d(8, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x1 = torch.relu(self.stem_bn(self.stem(x)))
        x = torch.relu(self.body(x1)) + x1
        x = nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=True)
        x = torch.relu(self.down(x))
        x = torch.cat([self.left(x), self.right(x)], dim=1)
        x = nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        x = torch.relu(self.bn(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class Depthwise(nn.Module):
    """Depthwise convs (multiplier 1 and 2) with ReLU6 (Clip), a dilated conv, Flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.dw1 = nn.Conv2d(3, 3, 3, padding=1, groups=3)
        self.dw2 = nn.Conv2d(3, 6, 3, groups=3)
        self.dil = nn.Conv2d(6, 4, 3, padding=2, dilation=2)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        x = nn.functional.relu6(self.dw1(x))
        x = nn.functional.relu6(self.dw2(x))
        x = torch.relu(self.dil(x))
        return self.fc(torch.flatten(x, 1))


class MatMulAdd(nn.Module):
    """x @ W + b written out: MatMul + Add, and a MatMul without bias."""

    def __init__(self):
        super().__init__()
        self.w1, self.b1 = nn.Parameter(torch.randn(10, 7) * 0.4), nn.Parameter(torch.randn(7) * 0.1)
        self.w2, self.b2 = nn.Parameter(torch.randn(7, 6) * 0.4), nn.Parameter(torch.randn(6) * 0.1)
        self.w3 = nn.Parameter(torch.randn(6, 3) * 0.4)

    def forward(self, x):
        x = torch.relu(torch.matmul(x, self.w1) + self.b1)
        x = torch.relu(torch.matmul(x, self.w2) + self.b2)
        return torch.matmul(x, self.w3)


MODELS = [
    ("mlp", Mlp, (20,), [11, 13, 17]),
    ("cnn", Cnn, (1, 12, 12), [11, 13, 17]),
    ("branches", Branches, (3, 8, 8), [11, 13, 17]),
    ("depthwise", Depthwise, (3, 8, 8), [10, 11, 17]),
    ("matmul", MatMulAdd, (10,), [13]),
]


def tensor_json(t):
    a = t.detach().numpy().astype(np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def randomize_batchnorm(model, gen):
    """Non-trivial running statistics, so that BatchNorm is not the identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def export(model, x, path, opset):
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))


def write_json(name, x, y):
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"input": tensor_json(x), "output": tensor_json(y)}, f)


def mlp_variants(mlp, x):
    base = onnx.load(os.path.join(OUT, "mlp-opset13.onnx"))

    m = onnx.ModelProto()
    m.CopyFrom(base)
    for t in m.graph.initializer:
        values = numpy_helper.to_array(t).astype(np.float32)
        t.ClearField("raw_data")
        t.float_data.extend(values.reshape(-1).tolist())
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, "mlp-float-data.onnx"))

    m = onnx.ModelProto()
    m.CopyFrom(base)
    data = os.path.join(OUT, "mlp-external.data")
    if os.path.exists(data):
        os.remove(data)  # onnx appends to an existing data file
    onnx.save_model(m, os.path.join(OUT, "mlp-external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="mlp-external.data", size_threshold=0)

    m = onnx.ModelProto()
    m.CopyFrom(base)
    rounded = {}
    for t in m.graph.initializer:
        half = numpy_helper.to_array(t).astype(np.float16)
        rounded[t.name] = half
        t.CopyFrom(numpy_helper.from_array(half, t.name))
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, "mlp-fp16.onnx"))
    # The same network with the float16 weights, computed in float32.
    state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in rounded.items()}
    half_mlp = Mlp()
    half_mlp.load_state_dict(state)
    half_mlp.eval()
    with torch.no_grad():
        write_json("mlp-fp16", x, half_mlp(x))


def matmul_extra():
    m = onnx.load(os.path.join(OUT, "matmul-opset13.onnx"))
    g = m.graph
    nodes = list(g.node)
    # An Identity after the first Relu and a Dropout (inference: ratio ignored) after the second.
    relus = [n for n in nodes if n.op_type == "Relu"]
    out = []
    for n in nodes:
        out.append(n)
        if n is relus[0] or n is relus[1]:
            old = n.output[0]
            new = old + "_pre"
            n.output[0] = new
            if n is relus[0]:
                out.append(helper.make_node("Identity", [new], [old], name="extra/Identity"))
            else:
                g.initializer.append(numpy_helper.from_array(np.array(0.25, dtype=np.float32), "extra/ratio"))
                out.append(helper.make_node("Dropout", [new, "extra/ratio"], [old], name="extra/Dropout"))
    del g.node[:]
    g.node.extend(out)
    # Metadata and a doc string that a writer must carry through.
    m.doc_string = "net-trim fixture: MatMul + Add with Identity and Dropout"
    entry = m.metadata_props.add()
    entry.key, entry.value = "fixture", "matmul-extra"
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, "matmul-extra.onnx"))


class ConvBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.fc = nn.Conv2d(2, 3, 3, bias=False), nn.BatchNorm2d(3), nn.Linear(3 * 4 * 4, 4)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.bn(self.conv(x))), 1))


def conv_bn():
    torch.manual_seed(1100)
    model = ConvBn()
    randomize_batchnorm(model, torch.Generator().manual_seed(2100))
    model.eval()
    x = torch.randn((BATCH, 2, 6, 6), generator=torch.Generator().manual_seed(3100))
    with torch.no_grad():
        y = model(x)
    write_json("conv-bn", x, y)
    init = [numpy_helper.from_array(v.detach().numpy().astype(np.float32), k) for k, v in model.state_dict().items() if "num_batches" not in k]
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["b"], name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["b"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["output"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "conv-bn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 4])], init,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make-onnx-fixtures")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, "conv-bn.onnx"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, cls, shape, opsets) in enumerate(MODELS):
        torch.manual_seed(1000 + seed)
        model = cls()
        randomize_batchnorm(model, torch.Generator().manual_seed(2000 + seed))
        model.eval()
        x = torch.randn((BATCH,) + shape, generator=torch.Generator().manual_seed(3000 + seed))
        with torch.no_grad():
            y = model(x)
        for opset in opsets:
            export(model, x, os.path.join(OUT, f"{name}-opset{opset}.onnx"), opset)
        write_json(name, x, y)
        if name == "mlp":
            mlp_variants(model, x)
        if name == "matmul":
            matmul_extra()
    conv_bn()
    for f in sorted(os.listdir(OUT)):
        print(f"{f}: {os.path.getsize(os.path.join(OUT, f))} bytes")


if __name__ == "__main__":
    main()
