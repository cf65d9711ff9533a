// What the ONNX reader refuses, each with a ModelFormatError that names the node, its op_type and
// why: unsupported ops and domains, attributes the NHWC graph cannot express, bad opsets, broken
// files. Models are real fixtures with one thing changed.
import { describe, expect, it } from "vitest";
import { forwardGraph, ModelFormatError, onnxToGraphLayout, parseOnnxModel } from "../bindings/index.ts";
import { decodeModel, encodeModel, type ModelProto, type NodeProto, type TensorProto } from "../bindings/formats/onnx/schema.ts";
import { expected, fixtureBytes, maxRelativeError, ortRun } from "./helpers/onnx.ts";

function mutated(file: string, change: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(fixtureBytes(file));
  change(m);
  return encodeModel(m);
}

function node(m: ModelProto, name: string): NodeProto {
  return m.graph!.node!.find((n) => n.name === name)!;
}

function setAttr(n: NodeProto, name: string, value: { i?: number; f?: number; ints?: number[] }): void {
  const a = n.attribute!.find((x) => x.name === name);
  if (a) Object.assign(a, value);
  else n.attribute!.push({ name, type: value.ints ? 7 : value.f !== undefined ? 1 : 2, ...value });
}

function tensor(name: string, values: number[], dataType: 1 | 7, dims = [values.length]): TensorProto {
  const raw = dataType === 7 ? new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer) : new Uint8Array(new Float32Array(values).buffer);
  return { name, dims, data_type: dataType, raw_data: raw };
}

function refusal(bytes: Uint8Array): ModelFormatError {
  try {
    parseOnnxModel(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error("expected a ModelFormatError");
}

const CASES: [what: string, file: string, change: (m: ModelProto) => void, message: RegExp][] = [
  ["an unsupported op", "mlp-opset13.onnx", (m) => { node(m, "/Tanh").op_type = "LSTM"; }, /node 3 "\/Tanh" \(LSTM\): op_type LSTM is not supported/],
  ["another domain", "mlp-opset13.onnx", (m) => { Object.assign(node(m, "/fc1/Gemm"), { op_type: "FusedGemm", domain: "com.microsoft" }); }, /"\/fc1\/Gemm" \(FusedGemm\): domain "com\.microsoft" is not read/],
  ["Gemm transA", "mlp-opset13.onnx", (m) => setAttr(node(m, "/fc2/Gemm"), "transA", { i: 1 }), /"\/fc2\/Gemm" \(Gemm\): attribute transA is not supported/],
  ["a grouped conv", "cnn-opset13.onnx", (m) => setAttr(node(m, "/conv2/Conv"), "group", { i: 2 }), /"\/conv2\/Conv" \(Conv\): attribute group is not supported; expected 1 or the input channels 4/],
  ["Clip that is not relu/relu6", "mlp-opset13.onnx", (m) => {
    Object.assign(node(m, "/Tanh"), { op_type: "Clip", input: [node(m, "/Tanh").input![0], "lo", "hi"] });
    m.graph!.initializer!.push(tensor("lo", [-1], 1, []), tensor("hi", [1], 1, []));
  }, /"\/Tanh" \(Clip\): the graph's clipping activations are relu and relu6.*min -1, max 1/],
  ["MaxPool ceil_mode with a partial window", "cnn-opset13.onnx", (m) => {
    const p = node(m, "/MaxPool");
    setAttr(p, "kernel_shape", { ints: [3, 3] });
    setAttr(p, "ceil_mode", { i: 1 });
  }, /"\/MaxPool" \(MaxPool\): attribute ceil_mode is not supported/],
  ["MaxPool padding a possibly negative input", "cnn-opset13.onnx", (m) => {
    const p = node(m, "/MaxPool");
    p.input = ["/conv1/Conv_output_0"];
    setAttr(p, "kernel_shape", { ints: [3, 3] });
    setAttr(p, "pads", { ints: [1, 1, 1, 1] });
  }, /"\/MaxPool" \(MaxPool\): its pads are not TensorFlow's "same" and its input may be negative/],
  ["a Reshape into an image", "cnn-opset13.onnx", (m) => { node(m, "/Constant").attribute![0].t = tensor("", [-1, 6, 16], 7); }, /"\/Reshape" \(Reshape\): reshaping images \(or into images\) would need a transpose/],
  ["a Reshape of the batch", "cnn-opset13.onnx", (m) => { node(m, "/Constant").attribute![0].t = tensor("", [-1], 7); }, /"\/Reshape" \(Reshape\): the first dimension must stay the batch/],
  ["Softmax over the batch", "mlp-opset13.onnx", (m) => setAttr(node(m, "/Softmax"), "axis", { i: 0 }), /"\/Softmax" \(Softmax\): attribute axis is not supported/],
  ["Flatten from axis 2", "depthwise-opset17.onnx", (m) => setAttr(node(m, "/Flatten"), "axis", { i: 2 }), /"\/Flatten" \(Flatten\): attribute axis is not supported/],
  ["an Add of a constant", "mlp-opset13.onnx", (m) => {
    Object.assign(node(m, "/Tanh"), { op_type: "Add", input: [node(m, "/Tanh").input![0], "offset"] });
    m.graph!.initializer!.push(tensor("offset", new Array(12).fill(0.5), 1));
  }, /"\/Tanh" \(Add\): input 1 "offset" is a constant/],
  ["BatchNormalization in training mode", "branches-opset17.onnx", (m) => setAttr(node(m, "/bn/BatchNormalization"), "training_mode", { i: 1 }), /"\/bn\/BatchNormalization" \(BatchNormalization\): attribute training_mode/],
  ["a Pad with a non-zero value", "branches-opset13.onnx", (m) => {
    node(m, "/Pad").input!.push("padValue");
    m.graph!.initializer!.push(tensor("padValue", [1], 1, []));
  }, /"\/Pad" \(Pad\): only zero padding is a graph op/],
  ["a weight shared by two layers", "mlp-opset13.onnx", (m) => {
    // Tanh (12 → 12) becomes two MatMuls by one [12, 12] tensor.
    const tanh = node(m, "/Tanh");
    const out = tanh.output![0];
    Object.assign(tanh, { op_type: "MatMul", input: [tanh.input![0], "square"], output: ["once"] });
    m.graph!.node!.splice(m.graph!.node!.indexOf(tanh) + 1, 0, { name: "/again", op_type: "MatMul", input: ["once", "square"], output: [out] });
    m.graph!.initializer!.push(tensor("square", new Array(144).fill(0.01), 1, [12, 12]));
  }, /"\/again" \(MatMul\): net-trim prunes each layer's weights on their own, so a weight tensor cannot be shared; expected tensor "square" used as the weight of one node, received also the weight of "\/Tanh"/],
  ["an input from nowhere", "mlp-opset13.onnx", (m) => { node(m, "/fc3/Gemm").input![0] = "ghost"; }, /"\/fc3\/Gemm" \(Gemm\): input 0 "ghost" is not produced by an earlier node/],
  ["a Conv1d", "cnn-opset13.onnx", (m) => {
    m.graph!.input![0].type!.tensor_type!.shape!.dim!.pop();
  }, /"\/conv1\/Conv" \(Conv\): only 2-D convolutions are read/],
  ["opset 18", "mlp-opset17.onnx", (m) => { m.opset_import![0].version = 18; }, /opset_import: expected the default ONNX domain at opset 10–17, received opset 18/],
  ["opset 9", "mlp-opset11.onnx", (m) => { m.opset_import![0].version = 9; }, /received opset 9/],
];

describe("parseOnnxModel refusals", () => {
  for (const [what, file, change, message] of CASES) {
    it(`${what}: refused, naming the node, its op_type and why`, () => {
      expect(refusal(mutated(file, change)).message).toMatch(message);
    });
  }

  it("bytes that are not a model", () => {
    expect(refusal(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])).message).toMatch(/model: expected an ONNX ModelProto \(protobuf\), received bytes that do not decode/);
    expect(refusal(new Uint8Array(0)).message).toMatch(/model graph: expected a GraphProto, received none/);
  });

  it("the refusal names the layer and op_type in its fields too", () => {
    const e = refusal(mutated("mlp-opset13.onnx", (m) => { node(m, "/Tanh").op_type = "Erf"; }));
    expect([e.layer, e.className, e.code]).toEqual(["/Tanh", "Erf", "invalid_option"]);
  });

  it("MaxPool with non-'same' pads after a ReLU is read exactly (zero padding = -inf padding on non-negative input)", async () => {
    const bytes = mutated("cnn-opset13.onnx", (m) => {
      const p = node(m, "/MaxPool");
      setAttr(p, "kernel_shape", { ints: [3, 3] });
      setAttr(p, "pads", { ints: [1, 1, 1, 1] });
      setAttr(p, "strides", { ints: [2, 2] });
    });
    const { graph, source } = parseOnnxModel(bytes);
    expect(graph.nodes.find((n) => n.name === "/MaxPool/pads")).toMatchObject({ op: "zeroPad2d", pads: [1, 1, 1, 1] });
    const e = expected("cnn");
    const input = new Float32Array(e.input.data);
    const y = forwardGraph(graph, [onnxToGraphLayout(source.inputs[0], input, 3)], 3).outputs[0];
    expect(maxRelativeError(y, await ortRun(bytes, input, e.input.shape))).toBeLessThan(1e-5);
  });
});
