// The sparse runtime against the graph's dense JS forward pass (forwardGraph, f64 accumulation):
// every op, random sparsity patterns whose sizes hit the SIMD tails (outputs mod 4 ≠ 0, empty
// rows, all-zero and fully dense kernels), zero inputs, batch 1, 3 and 16, each kernel forced and
// chosen; the bundled MLP and CNN pruned; the same bits twice; memory refused with the numbers.
import { describe, expect, it } from "vitest";
import {
  buildGraph, createRuntime, encodeCompact, forwardGraph, graphToOnnxLayout, isPrunable, loadModel, onnxToGraphLayout,
  OutOfMemoryError, ValidationError, type GraphNodeSpec, type ModelGraph,
} from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { expected, fixtureBytes, loadFixtureFile } from "./helpers/onnx.ts";
import { bundled, bundledFiles, pruned, sparseValues } from "./helpers/runtime-models.ts";
import { relativeDeviation } from "./helpers/tfjs-models.ts";

/** Inputs with a fraction `zeros` of exact zeros (as after a ReLU). */
function inputs(n: number, zeros: number, seed: number): Float32Array {
  return sparseValues(n, 1 - zeros, seed);
}

async function expectSameAsForward(graph: ModelGraph, batches = [1, 3, 16], kernels: ("auto" | "sparse" | "dense")[] = ["sparse", "dense", "auto"]): Promise<void> {
  for (const kind of kernels) {
    const rt = await createRuntime(graph, { kernels: kind });
    for (const batch of batches) {
      const xs = graph.inputs.map((name, i) => {
        const node = graph.nodes.find((n) => n.name === name)!;
        return inputs(batch * node.shape.reduce((a, b) => a * b, 1), 0.4, 1000 + batch + i);
      });
      const want = forwardGraph(graph, xs, batch).outputs;
      const got = rt.predictAll(xs, batch);
      for (let o = 0; o < want.length; o++) {
        expect(got[o].length).toBe(want[o].length);
        const dev = relativeDeviation(got[o], want[o]);
        expect(dev, `${kind} kernels, batch ${batch}, output ${o}`).toBeLessThan(1e-5);
      }
    }
    rt.dispose();
  }
}

const ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax"] as const;

describe("Dense", () => {
  it("sizes off the SIMD width, every density from all-zero to dense, every activation", async () => {
    let seed = 1, a = 0;
    for (const [n, m] of [[1, 1], [7, 5], [13, 9], [33, 31], [40, 37], [64, 64], [5, 70]]) {
      for (const density of [0, 0.03, 0.1, 0.5, 1]) {
        const activation = ACTIVATIONS[a++ % ACTIVATIONS.length];
        const graph = buildGraph([
          { name: "x", op: "input", inputs: [], shape: [n] },
          { name: "d", op: "dense", inputs: ["x"], units: m, activation, kernel: sparseValues(n * m, density, seed++), bias: a % 3 === 0 ? null : sparseValues(m, 1, seed++) },
        ], ["x"], ["d"]);
        await expectSameAsForward(graph);
      }
    }
  });

  it("two Dense layers over a [4, 6] tensor (the last axis) with an empty-row pattern", async () => {
    const k1 = sparseValues(6 * 10, 0.3, 9);
    k1.fill(0, 12, 30); // inputs 2..4 have no weights at all
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [4, 6] },
      { name: "d1", op: "dense", inputs: ["x"], units: 10, activation: "relu", kernel: k1, bias: sparseValues(10, 1, 3) },
      { name: "d2", op: "dense", inputs: ["d1"], units: 3, activation: "linear", kernel: sparseValues(30, 0.5, 4), bias: null },
    ], ["x"], ["d2"]);
    await expectSameAsForward(graph);
  });
});

describe("Conv2D and DepthwiseConv2D", () => {
  it("strides, padding, dilation, odd sizes, filters off the SIMD width, all densities", async () => {
    let seed = 100;
    const cases = [
      { hw: [9, 7], c: 3, f: 5, k: [3, 3], s: [1, 1], d: [1, 1], padding: "same" },
      { hw: [10, 9], c: 2, f: 6, k: [5, 5], s: [1, 1], d: [1, 1], padding: "valid" },
      { hw: [11, 8], c: 4, f: 33, k: [3, 2], s: [2, 1], d: [1, 1], padding: "same" },
      { hw: [12, 12], c: 1, f: 8, k: [3, 3], s: [1, 2], d: [2, 2], padding: "valid" },
      { hw: [7, 7], c: 5, f: 1, k: [1, 1], s: [2, 2], d: [1, 1], padding: "same" },
    ] as const;
    for (const cs of cases) {
      for (const density of [0, 0.1, 0.5, 1]) {
        const taps = cs.k[0] * cs.k[1] * cs.c;
        const conv = { kernelSize: cs.k, strides: cs.s, dilation: cs.d, padding: cs.padding, activation: "relu" as const };
        const graph = buildGraph([
          { name: "x", op: "input", inputs: [], shape: [...cs.hw, cs.c] },
          { name: "conv", op: "conv2d", inputs: ["x"], filters: cs.f, ...conv, kernel: sparseValues(taps * cs.f, density, seed++), bias: sparseValues(cs.f, 1, seed++) },
          { name: "dw", op: "depthwiseConv2d", inputs: ["conv"], depthMultiplier: 2, ...conv, strides: [1, 1], padding: "same", activation: "relu6", kernel: sparseValues(cs.k[0] * cs.k[1] * cs.f * 2, density, seed++), bias: null },
          { name: "dw1", op: "depthwiseConv2d", inputs: ["dw"], depthMultiplier: 1, kernelSize: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same", activation: "linear", kernel: sparseValues(9 * cs.f * 2, 0.7, seed++), bias: sparseValues(cs.f * 2, 1, seed++) },
        ], ["x"], ["dw1"]);
        await expectSameAsForward(graph);
      }
    }
  });
});

describe("the other ops", () => {
  it("BatchNorm, pools, zero padding, upsampling, Add, Concat, activations, flatten and reshape, two inputs and outputs", async () => {
    const conv = (name: string, input: string, c: number, f: number, seed: number): GraphNodeSpec => ({
      name, op: "conv2d", inputs: [input], filters: f, kernelSize: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same",
      activation: "relu", kernel: sparseValues(9 * c * f, 0.2, seed), bias: sparseValues(f, 1, seed + 1),
    });
    const graph = buildGraph([
      { name: "img", op: "input", inputs: [], shape: [9, 9, 3] },
      { name: "vec", op: "input", inputs: [], shape: [5] },
      conv("a", "img", 3, 6, 1), conv("b", "img", 3, 6, 3),
      { name: "sum", op: "add", inputs: ["a", "b"] },
      { name: "cat", op: "concat", inputs: ["a", "sum"], axis: -1 },
      { name: "bn", op: "batchNorm", inputs: ["cat"], axis: -1, epsilon: 1e-3, gamma: sparseValues(12, 1, 5), beta: sparseValues(12, 1, 6), mean: sparseValues(12, 1, 7), variance: new Float32Array(12).fill(0.5) },
      { name: "max", op: "maxPool2d", inputs: ["bn"], poolSize: [2, 2], strides: [2, 2], padding: "same" },
      { name: "avg", op: "avgPool2d", inputs: ["max"], poolSize: [3, 3], strides: [1, 1], padding: "same" },
      { name: "pad", op: "zeroPad2d", inputs: ["avg"], pads: [1, 0, 2, 1] },
      { name: "up", op: "upSample2d", inputs: ["pad"], size: [2, 1] },
      { name: "sig", op: "activation", inputs: ["up"], activation: "sigmoid" },
      { name: "gap", op: "globalAvgPool2d", inputs: ["sig"], keepDims: false },
      { name: "flat", op: "flatten", inputs: ["max"] },
      { name: "drop", op: "identity", inputs: ["flat"] },
      { name: "cat2", op: "concat", inputs: ["drop", "vec"], axis: -1 },
      { name: "fc", op: "dense", inputs: ["cat2"], units: 7, activation: "tanh", kernel: sparseValues((25 * 12 + 5) * 7, 0.1, 8), bias: null },
      { name: "r", op: "reshape", inputs: ["gap"], targetShape: [3, 4] },
      { name: "out2", op: "dense", inputs: ["r"], units: 5, activation: "softmax", kernel: sparseValues(20, 0.6, 9), bias: sparseValues(5, 1, 10) },
    ], ["img", "vec"], ["fc", "out2"]);
    await expectSameAsForward(graph);
  });
});

describe("the bundled models, pruned (magnitude, per layer)", () => {
  const digits = loadMnist().testX;
  for (const name of ["mnist-mlp", "mnist-cnn"]) {
    for (const fraction of [0.05, 0.1, 0.2, 1]) {
      it(`${name} keeping ${fraction * 100}%: the forward pass within 1e-5, the same bits twice`, async () => {
        const graph = pruned(bundled(name), fraction);
        const rt = await createRuntime(graph);
        if (fraction <= 0.1) expect(rt.layers.every((l) => l.kernel === "sparse")).toBe(true);
        if (fraction === 1) expect(rt.layers.every((l) => l.kernel === "dense")).toBe(true);
        for (const batch of [1, 3, 16, 40]) {
          const x = digits.subarray(0, batch * 784);
          const want = forwardGraph(graph, [x], batch).outputs[0];
          const got = rt.predict(x, batch);
          expect(relativeDeviation(got, want)).toBeLessThan(1e-5);
          expect(Buffer.from(rt.predict(x, batch).buffer).equals(Buffer.from(got.buffer))).toBe(true);
        }
        const again = await createRuntime(graph);
        const x = digits.subarray(0, 16 * 784);
        expect(Buffer.from(again.predict(x, 16).buffer).equals(Buffer.from(rt.predict(x, 16).buffer))).toBe(true);
      });
    }
  }
});

describe("memory", () => {
  it("computes the bytes first and refuses a batch past the limit with the numbers", async () => {
    const graph = pruned(bundled("mnist-mlp"), 0.1);
    const probe = await createRuntime(graph);
    const limit = probe.memoryBytes(1) + 1024; // room for one sample, not for a chunk of 16
    const rt = await createRuntime(graph, { maxMemoryBytes: limit });
    const need = rt.memoryBytes(4096);
    expect(need).toBe(rt.memoryBytes(16)); // 16 samples at a time
    expect(need).toBeGreaterThan(limit);
    const x = new Float32Array(4096 * 784);
    let err: unknown;
    try { rt.predict(x, 4096); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).requiredBytes).toBe(need);
    expect((err as OutOfMemoryError).limitBytes).toBe(limit);
    expect((err as Error).message).toMatch(/batch 4096/);
    expect(rt.predict(x.subarray(0, 784), 1).length).toBe(10);
  });

  it("a batch gives each sample the same bits as predicting it alone (chunks of 16 included)", async () => {
    for (const name of ["mnist-mlp", "mnist-cnn"]) {
      const rt = await createRuntime(pruned(bundled(name), 0.1));
      const x = loadMnist().testX.subarray(0, 37 * 784);
      const all = rt.predict(x, 37);
      for (const p of [0, 5, 16, 36]) {
        const alone = rt.predict(x.subarray(p * 784, (p + 1) * 784), 1);
        expect(Buffer.from(all.slice(p * 10, (p + 1) * 10).buffer).equals(Buffer.from(alone.buffer))).toBe(true);
      }
    }
  });

  it("holds each layer's weights once: CSR bytes for sparse layers, no dense copy", async () => {
    const graph = pruned(bundled("mnist-mlp"), 0.1);
    const rt = await createRuntime(graph, { kernels: "sparse" });
    for (const l of rt.layers) {
      const n = graph.nodes.find((x) => x.name === l.name)!;
      if (!isPrunable(n)) throw new Error("not prunable");
      const nnz = n.kernel.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
      const rows = n.kernel.length / (n as { units: number }).units;
      expect(l.bytes).toBeLessThan(8 * nnz + 4 * rows + 4 * ((n as { units: number }).units + 3) + 64);
    }
  });
});

describe("loadModel", () => {
  it("a TF.js model ({modelJson, weightData}) runs as the graph it reads", async () => {
    const model = await loadModel(bundledFiles("mnist-cnn"));
    expect(model.onnx).toBeNull();
    const x = loadMnist().testX.subarray(0, 3 * 784);
    expect(relativeDeviation(model.predict(x, 3), forwardGraph(model.graph, [x], 3).outputs[0])).toBeLessThan(1e-5);
  });

  it("a compact .ntz file runs as the graph it encodes, with the same outputs as the dense forward pass", async () => {
    const graph = pruned(bundled("mnist-cnn"), 0.1);
    const model = await loadModel(encodeCompact(graph));
    expect(model.onnx).toBeNull();
    const x = loadMnist().testX.subarray(0, 3 * 784);
    expect(relativeDeviation(model.predict(x, 3), forwardGraph(graph, [x], 3).outputs[0])).toBeLessThan(1e-5);
  });

  for (const [file, name] of [["cnn-opset13.onnx", "cnn"], ["depthwise-opset11.onnx", "depthwise"], ["branches-opset17.onnx", "branches"], ["conv-bn.onnx", "conv-bn"], ["mlp-external.onnx", "mlp"], ["matmul-extra.onnx", "matmul"]]) {
    it(`ONNX ${file}: PyTorch's outputs within 1e-5`, async () => {
      const model = await loadModel(fixtureBytes(file), { loadExternal: loadFixtureFile });
      const e = expected(name);
      const rows = e.input.shape[0];
      const x = onnxToGraphLayout(model.onnx!.inputs[0], new Float32Array(e.input.data), rows);
      const y = graphToOnnxLayout(model.onnx!.outputs[0], model.predict(x, rows), rows);
      expect(relativeDeviation(y, new Float32Array(e.output.data))).toBeLessThan(1e-5);
    });
  }

  it("refuses a model.json given as bytes, and anything else, naming the field", async () => {
    await expect(loadModel(new TextEncoder().encode(' {"format": "layers-model"}'))).rejects.toThrow(ValidationError);
    await expect(loadModel(new TextEncoder().encode('{"format": "layers-model"}'))).rejects.toThrow(/source.*model.json needs its weights/s);
    await expect(loadModel({} as never)).rejects.toThrow(/source/);
    await expect(createRuntime(bundled("mnist-mlp"), { kernels: "fast" as never })).rejects.toThrow(/options.kernels/);
  });
});
