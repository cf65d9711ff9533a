// writeOnnxModel: the original model back with the graph's (pruned) weights. onnxruntime-web runs
// the written files (dense and sparse_initializer) and predicts what our forward pass does (1e-5);
// the written tensors decode to exactly the graph's weights (checked by decoding them here, in
// the test's own layout code); unknown fields, metadata, names and opset survive.
import { describe, expect, it } from "vitest";
import {
  foldBatchNorms, forwardGraph, graphToOnnxLayout, isPrunable, onnxToGraphLayout, parseOnnxModel, writeOnnxModel, ModelFormatError,
  type ModelGraph, type OnnxSource, type PrunableNode,
} from "../bindings/index.ts";
import { decodeModel, encodeModel, type TensorProto } from "../bindings/formats/onnx/schema.ts";
import { expected, fixtureBytes, loadFixtureFile, maxRelativeError, ortRun } from "./helpers/onnx.ts";
import { magnitudeCut } from "./helpers/onnx-compare.ts";

function ours(graph: ModelGraph, source: OnnxSource, input: Float32Array, rows: number): Float32Array {
  return graphToOnnxLayout(source.outputs[0], forwardGraph(graph, [onnxToGraphLayout(source.inputs[0], input, rows)], rows).outputs[0], rows);
}

/** A float tensor's values as stored (raw_data float32, or float_data), decoded here. */
function storedValues(t: TensorProto): Float32Array {
  if (t.raw_data && t.raw_data.length) return new Float32Array(new Uint8Array(t.raw_data).buffer);
  return Float32Array.from(t.float_data ?? []);
}

/** Every weight tensor of the written model, sparse ones made dense here: name → values, dims. */
function writtenTensors(bytes: Uint8Array): Map<string, { values: Float32Array; dims: number[]; sparse: boolean }> {
  const g = decodeModel(bytes).graph!;
  const out = new Map<string, { values: Float32Array; dims: number[]; sparse: boolean }>();
  for (const t of g.initializer ?? []) if (t.data_type === 1) out.set(t.name!, { values: storedValues(t), dims: t.dims!.map(Number), sparse: false });
  for (const s of g.sparse_initializer ?? []) {
    const dims = s.dims!.map(Number);
    const dense = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const nz = storedValues(s.values!);
    const idx = new BigInt64Array(new Uint8Array(s.indices!.raw_data!).buffer);
    expect(s.indices!.data_type).toBe(7);
    expect(idx.length).toBe(nz.length);
    for (let k = 0; k < nz.length; k++) {
      if (k > 0) expect(idx[k] > idx[k - 1]).toBe(true);
      dense[Number(idx[k])] = nz[k];
    }
    out.set(s.values!.name!, { values: dense, dims, sparse: true });
  }
  return out;
}

/** The graph's kernel of a Gemm/MatMul/Conv as ONNX stores it, rebuilt here from the TF.js layout. */
function expectedOnnxKernel(n: PrunableNode, dims: number[], className: string, inputShape: number[]): Float32Array {
  const out = new Float32Array(n.kernel.length);
  if (n.op === "dense") {
    const transposed = className === "Gemm";
    const [units, ins] = transposed ? dims : [dims[1], dims[0]];
    // A Dense after a flattened [H, W, C] image takes its rows in H, W, C order; ONNX in C, H, W.
    const image = inputShape.length === 3 ? inputShape : undefined;
    const row = (i: number) => {
      if (!image) return i;
      const [h, w, c] = image;
      const ch = Math.floor(i / (h * w)), y = Math.floor((i % (h * w)) / w), x = i % w;
      return (y * w + x) * c + ch;
    };
    for (let i = 0; i < ins; i++) for (let o = 0; o < units; o++) out[transposed ? o * ins + i : i * units + o] = n.kernel[row(i) * units + o];
    return out;
  }
  const [m, c, kh, kw] = dims;
  for (let o = 0; o < m; o++) for (let k = 0; k < c; k++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    out[((o * c + k) * kh + y) * kw + x] = n.kernel[((y * kw + x) * c + k) * m + o];
  }
  return out;
}

/** The input shape a flatten fed into a dense node had, when it did (for the row order). */
function flattenedFrom(graph: ModelGraph, n: PrunableNode): number[] {
  const byName = new Map(graph.nodes.map((x) => [x.name, x]));
  let prev = byName.get(n.inputs[0])!;
  while (prev.op === "activation" || prev.op === "identity") prev = byName.get(prev.inputs[0])!;
  return prev.op === "flatten" ? byName.get(prev.inputs[0])!.shape : [];
}

const MODELS: [file: string, outputs: string][] = [
  ["mlp-opset11.onnx", "mlp"], ["cnn-opset13.onnx", "cnn"], ["branches-opset17.onnx", "branches"],
  ["depthwise-opset10.onnx", "depthwise"], ["depthwise-opset17.onnx", "depthwise"], ["matmul-extra.onnx", "matmul"],
  ["mlp-float-data.onnx", "mlp"], ["mlp-external.onnx", "mlp"],
];

describe("writeOnnxModel", () => {
  for (const [file, name] of MODELS) {
    it(`${file}: pruned to 10%, written dense and sparse: onnxruntime-web = our forward pass (1e-5), tensors = the graph's weights bit for bit`, async () => {
      const { graph, source } = parseOnnxModel(fixtureBytes(file), { loadExternal: loadFixtureFile });
      const pruned = magnitudeCut(graph, 0.1);
      const e = expected(name);
      const input = new Float32Array(e.input.data);
      const rows = e.input.shape[0];
      const y = ours(pruned, source, input, rows);
      for (const sparse of [false, true]) {
        const bytes = writeOnnxModel(pruned, source, { sparse });
        expect(maxRelativeError(await ortRun(bytes, input, e.input.shape), y)).toBeLessThan(1e-5);
        const tensors = writtenTensors(bytes);
        for (const n of pruned.nodes.filter(isPrunable)) {
          const kernelName = n.origin!.weightNames.kernel;
          const t = tensors.get(kernelName)!;
          expect(t.sparse).toBe(sparse);
          expect(t.values).toEqual(expectedOnnxKernel(n, t.dims, n.origin!.className, flattenedFrom(pruned, n)));
          if (n.bias) expect(tensors.get(n.origin!.weightNames.bias)!.values).toEqual(n.bias);
        }
        // Read back: the same graph, bit for bit.
        const again = parseOnnxModel(bytes).graph;
        expect(again.nodes.map((n) => n.name)).toEqual(pruned.nodes.map((n) => n.name));
        for (const [i, n] of pruned.nodes.entries()) if (isPrunable(n)) expect((again.nodes[i] as PrunableNode).kernel).toEqual(n.kernel);
      }
    });
  }

  it("unchanged weights write the same tensors; opset, names, nodes, doc_string and metadata carried; external data inlined", () => {
    for (const file of ["matmul-extra.onnx", "cnn-opset11.onnx", "mlp-external.onnx"]) {
      const original = fixtureBytes(file);
      const { graph, source } = parseOnnxModel(original, { loadExternal: loadFixtureFile });
      const a = decodeModel(original), b = decodeModel(writeOnnxModel(graph, source));
      expect(b.opset_import).toEqual(a.opset_import);
      expect(b.ir_version).toEqual(a.ir_version);
      expect(b.doc_string).toEqual(a.doc_string);
      expect(b.metadata_props).toEqual(a.metadata_props);
      expect(b.graph!.node).toEqual(a.graph!.node);
      expect(b.graph!.input).toEqual(a.graph!.input);
      expect(b.graph!.output).toEqual(a.graph!.output);
      const before = writtenTensors(encodeModel({ ...a, graph: { ...a.graph, initializer: a.graph!.initializer!.map((t) => (t.data_location === 1 ? { ...t, raw_data: loadFixtureFile("mlp-external.data")!.slice(Number(t.external_data!.find((x) => x.key === "offset")?.value ?? 0), Number(t.external_data!.find((x) => x.key === "offset")?.value ?? 0) + Number(t.external_data!.find((x) => x.key === "length")!.value)) } : t)) } }));
      expect(writtenTensors(encodeModel(b))).toEqual(before);
      for (const t of b.graph!.initializer!) expect(t.data_location ?? 0).toBe(0);
    }
  });

  it("unknown fields of the model, a node, a tensor and a value info survive the round trip", async () => {
    const m = decodeModel(fixtureBytes("mlp-opset13.onnx"));
    // Field 99 (varint 7) and field 98 (a string) are not in onnx.proto: a reader must carry them.
    const unknownVarint = new Uint8Array([0x98, 0x06, 0x07]);
    const unknownString = new Uint8Array([0x92, 0x06, 0x02, 0x68, 0x69]);
    (m as { $unknowns?: Uint8Array[] }).$unknowns = [unknownVarint];
    (m.graph!.node![0] as { $unknowns?: Uint8Array[] }).$unknowns = [unknownString];
    m.graph!.initializer![0].$unknowns = [unknownVarint];
    (m.graph!.input![0] as { $unknowns?: Uint8Array[] }).$unknowns = [unknownString];
    m.metadata_props = [{ key: "author", value: "net-trim test" }];
    const bytes = encodeModel(m);
    const { graph, source } = parseOnnxModel(bytes);
    const written = decodeModel(writeOnnxModel(magnitudeCut(graph, 0.5), source));
    expect((written as { $unknowns?: Uint8Array[] }).$unknowns).toEqual([unknownVarint]);
    expect((written.graph!.node![0] as { $unknowns?: Uint8Array[] }).$unknowns).toEqual([unknownString]);
    expect(written.graph!.initializer![0].$unknowns).toEqual([unknownVarint]);
    expect((written.graph!.input![0] as { $unknowns?: Uint8Array[] }).$unknowns).toEqual([unknownString]);
    expect(written.metadata_props).toEqual([{ key: "author", value: "net-trim test" }]);
    const e = expected("mlp");
    expect((await ortRun(encodeModel(written), new Float32Array(e.input.data), e.input.shape)).length).toBe(e.output.data.length);
  });

  it("a BatchNorm folded into a conv without bias: written as the identity carrying the folded bias; onnxruntime-web = ours", async () => {
    const { graph, source } = parseOnnxModel(fixtureBytes("conv-bn.onnx"));
    const e = expected("conv-bn");
    const input = new Float32Array(e.input.data);
    expect(maxRelativeError(ours(graph, source, input, 3), e.output.data)).toBeLessThan(1e-5);
    const { graph: folded, folded: which } = foldBatchNorms(graph);
    expect(which).toEqual([{ batchNorm: "bn", into: "conv" }]);
    const pruned = magnitudeCut(folded, 0.3);
    const bytes = writeOnnxModel(pruned, source);
    expect(maxRelativeError(await ortRun(bytes, input, e.input.shape), ours(pruned, source, input, 3))).toBeLessThan(1e-5);
    const t = writtenTensors(bytes);
    expect(t.get("bn.weight")!.values).toEqual(new Float32Array(3).fill(1));
    expect(t.get("bn.bias")!.values).toEqual((pruned.nodes.find((n) => n.name === "conv") as PrunableNode).bias);
    expect(decodeModel(bytes).graph!.node!.map((n) => n.op_type)).toEqual(["Conv", "BatchNormalization", "Relu", "Flatten", "Gemm"]);
  });

  it("Gemm alpha and beta are read into the weights and written as 1", async () => {
    const m = decodeModel(fixtureBytes("mlp-opset13.onnx"));
    const gemm = m.graph!.node![0];
    gemm.attribute!.find((a) => a.name === "alpha")!.f = 0.5;
    gemm.attribute!.find((a) => a.name === "beta")!.f = 2;
    const bytes = encodeModel(m);
    const { graph, source } = parseOnnxModel(bytes);
    const e = expected("mlp");
    const input = new Float32Array(e.input.data);
    expect(maxRelativeError(ours(graph, source, input, 3), await ortRun(bytes, input, e.input.shape))).toBeLessThan(1e-5);
    const written = writeOnnxModel(graph, source);
    const attrs = decodeModel(written).graph!.node![0].attribute!;
    expect(attrs.find((a) => a.name === "alpha")!.f).toBe(1);
    expect(attrs.find((a) => a.name === "beta")!.f).toBe(1);
    expect(maxRelativeError(await ortRun(written, input, e.input.shape), ours(graph, source, input, 3))).toBeLessThan(1e-5);
  });

  it("refuses a graph that does not fit the model, naming the tensor", () => {
    const { graph, source } = parseOnnxModel(fixtureBytes("mlp-opset13.onnx"));
    const renamed = { ...graph, nodes: graph.nodes.map((n) => (n.name === "/fc2/Gemm" ? { ...n, name: "other" } : n)) };
    expect(() => writeOnnxModel(renamed, source)).toThrow(ModelFormatError);
    expect(() => writeOnnxModel(renamed, source)).toThrow(/fc2\.weight/);
    const nan = { ...graph, nodes: graph.nodes.map((n) => (n.name === "/fc1/Gemm" && n.op === "dense" ? { ...n, kernel: n.kernel.map((v, i) => (i === 5 ? NaN : v)) } : n)) };
    expect(() => writeOnnxModel(nan, source)).toThrow(/non_finite|NaN/);
    expect(() => writeOnnxModel(graph, source, { sparse: "yes" as unknown as boolean })).toThrow(/options\.sparse/);
  });
});
