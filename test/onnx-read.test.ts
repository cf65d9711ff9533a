// The ONNX reader on real torch.onnx.export output (test/fixtures/onnx): the graph's forward pass
// equals PyTorch's saved outputs and onnxruntime-web's on the same input, for every model and
// opset; initializers in float_data, float16 and external files; the NCHW → NHWC mapping.
import { describe, expect, it } from "vitest";
import {
  forwardGraph, graphToOnnxLayout, ModelFormatError, onnxToGraphLayout, parseOnnxModel, type ModelGraph, type OnnxSource,
} from "../bindings/index.ts";
import { decodeModel } from "../bindings/formats/onnx/schema.ts";
import { expected, fixtureBytes, loadFixtureFile, maxRelativeError, ortRun } from "./helpers/onnx.ts";

const CASES: [file: string, outputs: string][] = [
  ["mlp-opset11.onnx", "mlp"], ["mlp-opset13.onnx", "mlp"], ["mlp-opset17.onnx", "mlp"],
  ["cnn-opset11.onnx", "cnn"], ["cnn-opset13.onnx", "cnn"], ["cnn-opset17.onnx", "cnn"],
  ["branches-opset11.onnx", "branches"], ["branches-opset13.onnx", "branches"], ["branches-opset17.onnx", "branches"],
  ["depthwise-opset10.onnx", "depthwise"], ["depthwise-opset11.onnx", "depthwise"], ["depthwise-opset17.onnx", "depthwise"],
  ["matmul-opset13.onnx", "matmul"], ["matmul-extra.onnx", "matmul"],
  ["mlp-float-data.onnx", "mlp"], ["mlp-external.onnx", "mlp"],
];

/** Our forward pass on ONNX-layout input, returned in ONNX layout. */
function ours(graph: ModelGraph, source: OnnxSource, input: Float32Array, rows: number): Float32Array {
  const x = onnxToGraphLayout(source.inputs[0], input, rows);
  return graphToOnnxLayout(source.outputs[0], forwardGraph(graph, [x], rows).outputs[0], rows);
}

describe("parseOnnxModel on PyTorch exports", () => {
  for (const [file, name] of CASES) {
    it(`${file}: forward = PyTorch and = onnxruntime-web (1e-5)`, async () => {
      const bytes = fixtureBytes(file);
      const { graph, source } = parseOnnxModel(bytes, { loadExternal: loadFixtureFile });
      const e = expected(name);
      const input = new Float32Array(e.input.data);
      const rows = e.input.shape[0];
      const y = ours(graph, source, input, rows);
      expect(maxRelativeError(y, e.output.data)).toBeLessThan(1e-5);
      const external = file === "mlp-external.onnx";
      if (!external) expect(maxRelativeError(y, await ortRun(bytes, input, e.input.shape))).toBeLessThan(1e-5);
    });
  }

  it("float16 initializers: decoded exactly; forward = PyTorch on the rounded weights, and onnxruntime-web within float16 arithmetic", async () => {
    const bytes = fixtureBytes("mlp-fp16.onnx");
    const { graph, source } = parseOnnxModel(bytes);
    const e = expected("mlp-fp16");
    const input = new Float32Array(e.input.data);
    const y = ours(graph, source, input, e.input.shape[0]);
    expect(maxRelativeError(y, e.output.data)).toBeLessThan(1e-5);
    // Every weight is a float16 value (an f32 that survives rounding to 11 significant bits).
    const fc1 = graph.nodes.find((n) => n.name === "/fc1/Gemm")!;
    expect(fc1.op).toBe("dense");
    for (const v of (fc1 as { kernel: Float32Array }).kernel) expect(Math.abs(v * 2 ** 24 - Math.round(v * 2 ** 24)) < 1e-9 || Math.abs(v) >= 2 ** -14).toBe(true);
    // onnxruntime computes this model in float16 (about 3 significant digits).
    expect(maxRelativeError(await ortRun(bytes, input, e.input.shape, true), e.output.data)).toBeLessThan(2e-2);
  });

  it("the same weights from raw_data, float_data and an external file", () => {
    const raw = parseOnnxModel(fixtureBytes("mlp-opset13.onnx")).graph;
    for (const file of ["mlp-float-data.onnx", "mlp-external.onnx"]) {
      const other = parseOnnxModel(fixtureBytes(file), { loadExternal: loadFixtureFile }).graph;
      expect(other.nodes.map((n) => n.name)).toEqual(raw.nodes.map((n) => n.name));
      for (const [i, n] of raw.nodes.entries()) {
        if (n.op === "dense") expect((other.nodes[i] as typeof n).kernel).toEqual(n.kernel);
      }
    }
  });

  it("external data missing: a ModelFormatError naming the file", () => {
    const bytes = fixtureBytes("mlp-external.onnx");
    expect(() => parseOnnxModel(bytes)).toThrow(ModelFormatError);
    expect(() => parseOnnxModel(bytes)).toThrow(/mlp-external\.data/);
    expect(() => parseOnnxModel(bytes, { loadExternal: () => undefined })).toThrow(/external file "mlp-external\.data"/);
  });

  it("maps a PyTorch CNN to the NHWC graph: Gemm B [out, in] → kernel [in, units] with C,H,W rows permuted to H,W,C", () => {
    const { graph, source } = parseOnnxModel(fixtureBytes("cnn-opset13.onnx"));
    expect(source.inputs[0]).toMatchObject({ name: "input", shape: [1, 12, 12], layout: { kind: "nchw" } });
    expect(graph.nodes.find((n) => n.name === "input")!.shape).toEqual([12, 12, 1]);
    expect(graph.nodes.map((n) => n.op)).toEqual(["input", "conv2d", "activation", "maxPool2d", "conv2d", "activation", "flatten", "dense", "activation", "dense"]);
    const conv1 = graph.nodes[1] as Extract<ModelGraph["nodes"][number], { op: "conv2d" }>;
    expect([conv1.padding, conv1.filters, conv1.kernelSize]).toEqual(["same", 4, [3, 3]]);
    // Independently: fc1.weight is [16, 96] over (c, h, w) of a [6, 4, 4] image.
    const W = new Float32Array(16 * 96);
    const fc1 = graph.nodes[7] as Extract<ModelGraph["nodes"][number], { op: "dense" }>;
    for (let o = 0; o < 16; o++) for (let c = 0; c < 6; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      W[o * 96 + c * 16 + y * 4 + x] = fc1.kernel[((y * 4 + x) * 6 + c) * 16 + o];
    }
    const t = decodeModel(fixtureBytes("cnn-opset13.onnx")).graph!.initializer!.find((x) => x.name === "fc1.weight")!;
    expect(t.dims!.map(Number)).toEqual([16, 96]);
    const raw = t.raw_data!;
    expect(W).toEqual(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    expect(fc1.origin).toEqual({ className: "Gemm", weightNames: { kernel: "fc1.weight", bias: "fc1.bias" } });
  });

  it("branches: a strided conv with symmetric pads and a counting AveragePool get zeroPad2d nodes; Concat on channels; BatchNorm kept", () => {
    const { graph } = parseOnnxModel(fixtureBytes("branches-opset13.onnx"));
    const byName = new Map(graph.nodes.map((n) => [n.name, n]));
    expect(byName.get("/down/Conv/pads")).toMatchObject({ op: "zeroPad2d", pads: [1, 1, 1, 1] });
    expect(byName.get("/down/Conv")).toMatchObject({ op: "conv2d", padding: "valid", strides: [2, 2] });
    expect(byName.get("/Concat")).toMatchObject({ op: "concat", axis: 2 });
    expect(byName.get("/AveragePool_1")).toMatchObject({ op: "avgPool2d", padding: "same" });
    expect(byName.get("/bn/BatchNormalization")?.op).toBe("batchNorm");
  });

  it("depthwise: group = C convs read as depthwiseConv2d (multiplier 1 and 2); Clip as relu6 (attributes at opset 10, inputs at 11+)", () => {
    for (const file of ["depthwise-opset10.onnx", "depthwise-opset11.onnx"]) {
      const { graph } = parseOnnxModel(fixtureBytes(file));
      const ops = graph.nodes.map((n) => (n.op === "depthwiseConv2d" ? `dw×${n.depthMultiplier}` : n.op === "activation" ? n.activation : n.op));
      expect(ops).toEqual(["input", "dw×1", "relu", "relu6", "dw×2", "relu", "relu6", "conv2d", "relu", "flatten", "dense"]);
    }
  });

  it("MatMul + Add read as one dense node with its bias; Identity and Dropout as identity", () => {
    const { graph } = parseOnnxModel(fixtureBytes("matmul-extra.onnx"));
    expect(graph.nodes.map((n) => `${n.name}:${n.op}`)).toEqual([
      "input:input", "/MatMul:dense", "/Relu:activation", "extra/Identity:identity", "/MatMul_1:dense", "/Relu_1:activation", "extra/Dropout:identity", "/MatMul_2:dense",
    ]);
    expect(graph.nodes[1].origin).toEqual({ className: "MatMul+Add", weightNames: { kernel: "w1", bias: "b1" } });
    expect((graph.nodes[7] as { bias: unknown }).bias).toBe(null);
  });
});

describe("readOnnxModelFile (Node)", () => {
  it("reads external data next to the model; a missing data file is named", async () => {
    const { readOnnxModelFile } = await import("../bindings/node/files.ts");
    const { mkdtempSync, copyFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { FIXTURES } = await import("./helpers/onnx.ts");
    const { graph } = readOnnxModelFile(join(FIXTURES, "mlp-external.onnx"));
    const direct = parseOnnxModel(fixtureBytes("mlp-external.onnx"), { loadExternal: loadFixtureFile }).graph;
    expect(graph.nodes.map((n) => (n.op === "dense" ? Array.from(n.kernel) : n.name))).toEqual(direct.nodes.map((n) => (n.op === "dense" ? Array.from(n.kernel) : n.name)));
    const dir = mkdtempSync(join(tmpdir(), "net-trim-onnx-"));
    copyFileSync(join(FIXTURES, "mlp-external.onnx"), join(dir, "model.onnx"));
    expect(() => readOnnxModelFile(join(dir, "model.onnx"))).toThrow(/mlp-external\.data/);
  });
});
