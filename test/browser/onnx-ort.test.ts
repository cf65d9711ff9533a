// The ONNX files writeOnnxModel writes, loaded by onnxruntime-web (wasm backend, one thread) in
// real headless Chromium, not only in Node: exported fixtures cut to 10% of their weights, written
// with dense and with sparse initializers, predict our forward pass within 1e-5 relative.
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-web/wasm";
import {
  forwardGraph, graphToOnnxLayout, isPrunable, onnxToGraphLayout, parseOnnxModel, writeOnnxModel,
  type ModelGraph, type OnnxSource,
} from "../../bindings/index.ts";
import { decodeModel } from "../../bindings/formats/onnx/schema.ts";
import { magnitudeCut, maxRelativeError } from "../helpers/onnx-compare.ts";

// The page serves onnxruntime-web's own .wasm from node_modules (vitest.config.ts allows the folder).
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = { wasm: new URL("../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", import.meta.url).href };

interface Expected {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

async function fixture(file: string): Promise<Response> {
  const response = await fetch(new URL(`../fixtures/onnx/${file}`, import.meta.url));
  expect(response.ok).toBe(true);
  return response;
}

async function ortRun(model: Uint8Array, data: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  try {
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", data, shape) });
    return Float32Array.from(result[session.outputNames[0]].data as Float32Array);
  } finally {
    await session.release();
  }
}

function ours(graph: ModelGraph, source: OnnxSource, input: Float32Array, rows: number): Float32Array {
  return graphToOnnxLayout(source.outputs[0], forwardGraph(graph, [onnxToGraphLayout(source.inputs[0], input, rows)], rows).outputs[0], rows);
}

const MODELS: [file: string, expectedName: string][] = [
  ["mlp-opset11.onnx", "mlp"], ["cnn-opset13.onnx", "cnn"], ["branches-opset17.onnx", "branches"], ["depthwise-opset10.onnx", "depthwise"],
];

describe("written ONNX files in onnxruntime-web in Chromium", () => {
  it("runs in a browser page with one thread", () => {
    expect(typeof navigator).toBe("object");
    expect(ort.env.wasm.numThreads).toBe(1);
  });

  for (const [file, name] of MODELS) {
    it(`${file}: the export = PyTorch; cut to 10%, written dense and sparse = our forward pass (1e-5)`, async () => {
      const original = new Uint8Array(await (await fixture(file)).arrayBuffer());
      const e = (await (await fixture(`${name}.json`)).json()) as Expected;
      const input = new Float32Array(e.input.data);
      const rows = e.input.shape[0];
      // The runtime itself is right here: the unpruned export predicts what PyTorch computed.
      expect(maxRelativeError(await ortRun(original, input, e.input.shape), e.output.data)).toBeLessThan(1e-5);

      const { graph, source } = parseOnnxModel(original);
      const pruned = magnitudeCut(graph, 0.1);
      const kernels = pruned.nodes.filter(isPrunable).map((n) => n.kernel);
      const zeros = kernels.reduce((z, k) => z + k.filter((v) => v === 0).length, 0);
      expect(zeros).toBeGreaterThan(0.85 * kernels.reduce((s, k) => s + k.length, 0));
      const y = ours(pruned, source, input, rows);
      expect(maxRelativeError(y, e.output.data)).toBeGreaterThan(1e-3); // the cut changed the prediction

      for (const sparse of [false, true]) {
        const bytes = writeOnnxModel(pruned, source, { sparse });
        expect(decodeModel(bytes).graph!.sparse_initializer?.length ?? 0).toBe(sparse ? kernels.length : 0);
        const got = await ortRun(bytes, input, e.input.shape);
        expect(got.length).toBe(y.length);
        expect(maxRelativeError(got, y)).toBeLessThan(1e-5);
      }
    });
  }
});
