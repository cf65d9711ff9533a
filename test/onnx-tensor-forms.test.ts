// Where ONNX weights and shapes can live besides a dense initializer: a Reshape shape as an
// initializer, a Gemm weight in a Constant node, a sparse_initializer with [NNZ, rank]
// coordinates, a float16 model's weights written back in float16.
import { describe, expect, it } from "vitest";
import {
  forwardGraph, graphToOnnxLayout, isPrunable, onnxToGraphLayout, parseOnnxModel, writeOnnxModel, type ModelGraph, type OnnxSource, type PrunableNode,
} from "../bindings/index.ts";
import { decodeModel, encodeModel, type ModelProto } from "../bindings/formats/onnx/schema.ts";
import { expected, fixtureBytes, maxRelativeError, ortRun } from "./helpers/onnx.ts";

function ours(graph: ModelGraph, source: OnnxSource, name: string): Float32Array {
  const e = expected(name);
  const rows = e.input.shape[0];
  const x = onnxToGraphLayout(source.inputs[0], new Float32Array(e.input.data), rows);
  return graphToOnnxLayout(source.outputs[0], forwardGraph(graph, [x], rows).outputs[0], rows);
}

function edited(file: string, change: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(fixtureBytes(file));
  change(m);
  return encodeModel(m);
}

function halved(graph: ModelGraph): ModelGraph {
  return { ...graph, nodes: graph.nodes.map((n) => (isPrunable(n) ? { ...n, kernel: n.kernel.map((v, i) => (i % 2 ? 0 : v)) } : n)) };
}

describe("ONNX tensor forms", () => {
  it("a Reshape shape given as an initializer instead of a Constant node", () => {
    const bytes = edited("cnn-opset13.onnx", (m) => {
      const g = m.graph!;
      const k = g.node!.findIndex((n) => n.op_type === "Constant");
      const constant = g.node!.splice(k, 1)[0];
      g.initializer!.push({ ...constant.attribute![0].t!, name: constant.output![0] });
    });
    const { graph, source } = parseOnnxModel(bytes);
    expect(maxRelativeError(ours(graph, source, "cnn"), expected("cnn").output.data)).toBeLessThan(1e-5);
  });

  it("a Gemm weight held by a Constant node: read, and written back into that node", async () => {
    const bytes = edited("mlp-opset13.onnx", (m) => {
      const g = m.graph!;
      const k = g.initializer!.findIndex((t) => t.name === "fc2.weight");
      const [t] = g.initializer!.splice(k, 1);
      g.node!.unshift({ name: "w2", op_type: "Constant", output: ["fc2.weight"], attribute: [{ name: "value", type: 4, t: { ...t, name: "" } }] });
    });
    const { graph, source } = parseOnnxModel(bytes);
    expect(source.weights.find((w) => w.tensor === "fc2.weight")!.slot).toEqual({ kind: "constant", node: 0 });
    expect(maxRelativeError(ours(graph, source, "mlp"), expected("mlp").output.data)).toBeLessThan(1e-5);
    const pruned = halved(graph);
    const written = writeOnnxModel(pruned, source, { sparse: true });
    const e = expected("mlp");
    expect(maxRelativeError(await ortRun(written, new Float32Array(e.input.data), e.input.shape), ours(pruned, source, "mlp"))).toBeLessThan(1e-5);
    const again = parseOnnxModel(written).graph;
    expect((again.nodes.find((n) => n.name === "/fc2/Gemm") as PrunableNode).kernel).toEqual((pruned.nodes.find((n) => n.name === "/fc2/Gemm") as PrunableNode).kernel);
  });

  it("a sparse_initializer with [NNZ, rank] coordinates reads as the dense tensor", () => {
    const dense = parseOnnxModel(fixtureBytes("mlp-opset13.onnx")).graph;
    const bytes = edited("mlp-opset13.onnx", (m) => {
      const g = m.graph!;
      const k = g.initializer!.findIndex((t) => t.name === "fc1.weight");
      const [t] = g.initializer!.splice(k, 1);
      const [rows, cols] = t.dims!.map(Number);
      const values = new Float32Array(new Uint8Array(t.raw_data!).buffer);
      const coords: bigint[] = [];
      const nz: number[] = [];
      values.forEach((v, i) => { if (i % 3 !== 0) { coords.push(BigInt(Math.floor(i / cols)), BigInt(i % cols)); nz.push(v); } });
      g.sparse_initializer = [{
        values: { name: "fc1.weight", dims: [nz.length], data_type: 1, raw_data: new Uint8Array(new Float32Array(nz).buffer) },
        indices: { dims: [nz.length, 2], data_type: 7, raw_data: new Uint8Array(new BigInt64Array(coords).buffer) },
        dims: [rows, cols],
      }];
    });
    const { graph } = parseOnnxModel(bytes);
    const a = (dense.nodes.find((n) => n.name === "/fc1/Gemm") as PrunableNode).kernel;
    const b = (graph.nodes.find((n) => n.name === "/fc1/Gemm") as PrunableNode).kernel;
    // Kernel [20, 16] = fc1.weight [16, 20] transposed: entry (o, i) at i·16 + o, dropped where (o·20 + i) % 3 == 0.
    for (let i = 0; i < 20; i++) for (let o = 0; o < 16; o++) expect(b[i * 16 + o]).toBe((o * 20 + i) % 3 === 0 ? 0 : a[i * 16 + o]);
  });

  it("float16 weights are written back as float16, losslessly for the weights read and the zeros", () => {
    const { graph, source } = parseOnnxModel(fixtureBytes("mlp-fp16.onnx"));
    const pruned = halved(graph);
    for (const sparse of [false, true]) {
      const written = writeOnnxModel(pruned, source, { sparse });
      const g = decodeModel(written).graph!;
      for (const t of [...g.initializer!, ...g.sparse_initializer!.map((s) => s.values!)]) expect(t.data_type).toBe(10);
      const again = parseOnnxModel(written).graph;
      for (const [i, n] of pruned.nodes.entries()) if (isPrunable(n)) expect((again.nodes[i] as PrunableNode).kernel).toEqual(n.kernel);
    }
  });
});
