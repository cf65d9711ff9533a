// TF.js LayersModel graphs in and out: read → prune → write → @tensorflow/tfjs loads it and
// predicts as our forward pass does; weight names, manifest order, topology and lossless storage
// dtypes kept; BatchNorm folding written back; a Keras 3 functional model.json; every
// unsupported layer refused by name.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  foldBatchNorms, forwardGraph, isPrunable, ModelFormatError, parseLayersModelGraph, writeLayersModelGraph, type ModelGraph,
} from "../bindings/index.ts";
import { init, loadFromMemory, relativeDeviation, saveToMemory, seededUniform, tfPredict } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

let seed = 500;
const s = () => init(seed++);
const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;

function bn(center = true, scale = true): tf.layers.Layer {
  return tf.layers.batchNormalization({
    center, scale,
    gammaInitializer: tf.initializers.randomNormal({ seed: seed++, mean: 1, stddev: 0.5 }),
    betaInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingMeanInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.2, maxval: 3, seed: seed++ }),
  });
}

/** A small residual CNN with BatchNorms after convs with and without bias. */
function residualCnn(): tf.LayersModel {
  const a = tf.input({ shape: [10, 10, 2] });
  const c1 = sym(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", useBias: false, ...s() }), a);
  const b1 = sym(tf.layers.reLU({}), sym(bn(), c1));
  const c2 = sym(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", ...s() }), b1);
  const b2 = sym(bn(false, true), c2);
  const r = sym(tf.layers.activation({ activation: "relu" }), sym(tf.layers.add(), [b2, b1]));
  const d = sym(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", useBias: false, depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed++ }) }), r);
  const b3 = sym(bn(true, false), d);
  const cat = sym(tf.layers.concatenate(), [b3, sym(tf.layers.averagePooling2d({ poolSize: 2 }), r)]);
  const f = sym(tf.layers.flatten(), cat);
  const h = sym(tf.layers.dense({ units: 16, useBias: false, ...s() }), f);
  const hb = sym(tf.layers.reLU({}), sym(bn(false, false), h));
  const out = sym(tf.layers.dense({ units: 5, activation: "softmax", ...s() }), sym(tf.layers.dropout({ rate: 0.3 }), hb));
  return tf.model({ inputs: a, outputs: out });
}

/** Zeroes the smaller half (by magnitude) of every dense/conv kernel: a stand-in for pruning. */
function pruneHalf(graph: ModelGraph): ModelGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      if (!isPrunable(n)) return n;
      const sorted = Float32Array.from(n.kernel, Math.abs).sort();
      const cut = sorted[Math.floor(sorted.length / 2)];
      return { ...n, kernel: n.kernel.map((v) => (Math.abs(v) < cut ? 0 : v)) };
    }),
  };
}

describe("round trip", () => {
  it("read → prune → write → tfjs.loadLayersModel: predictions equal our forward pass; names, order and topology kept", async () => {
    const model = residualCnn();
    const saved = await saveToMemory(model);
    const graph = pruneHalf(parseLayersModelGraph(saved.modelJson, saved.weightData));
    const written = writeLayersModelGraph(saved.modelJson, graph, { note: "test" });
    expect((written.modelJson as any).modelTopology).toEqual(saved.modelJson.modelTopology);
    const spec = (written.modelJson as any).weightsManifest[0].weights;
    expect(spec.map((w: any) => [w.name, w.shape, w.dtype])).toEqual(saved.modelJson.weightsManifest[0].weights.map((w: any) => [w.name, w.shape, w.dtype]));
    expect((written.modelJson as any).userDefinedMetadata.netTrim.note).toBe("test");
    const loaded = await loadFromMemory(written.modelJson, written.weightData);
    const rows = 6;
    const x = seededUniform(rows * 200, 3);
    const ours = forwardGraph(graph, [x], rows).outputs[0];
    expect(relativeDeviation(ours, tfPredict(loaded, [x], rows)[0])).toBeLessThan(1e-5);
    expect(relativeDeviation(ours, tfPredict(model, [x], rows)[0])).toBeGreaterThan(1e-3); // the pruning did change it
    // Reading the written files gives back the pruned weights bit for bit.
    const again = parseLayersModelGraph(written.modelJson, written.weightData);
    for (const [i, n] of again.nodes.entries()) if (isPrunable(n)) expect(n.kernel).toEqual((graph.nodes[i] as typeof n).kernel);
  });

  it("BatchNorm folding written back: folded kernels in the layers, identity BatchNorms (beta carrying the bias of bias-less layers); tfjs predicts as the original", async () => {
    const model = residualCnn();
    const saved = await saveToMemory(model);
    const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
    const { graph: folded, folded: pairs } = foldBatchNorms(graph);
    expect(pairs.length).toBe(4);
    const written = writeLayersModelGraph(saved.modelJson, folded);
    expect((written.modelJson as any).modelTopology).toEqual(saved.modelJson.modelTopology);
    const loaded = await loadFromMemory(written.modelJson, written.weightData);
    const rows = 5;
    const x = seededUniform(rows * 200, 4);
    expect(relativeDeviation(tfPredict(loaded, [x], rows)[0], tfPredict(model, [x], rows)[0])).toBeLessThan(1e-5);
    // The written BatchNorms are the identity (+ carried bias); reading the file back and folding again gives the same kernels.
    const reread = parseLayersModelGraph(written.modelJson, written.weightData);
    for (const p of pairs) {
      const node = reread.nodes.find((n) => n.name === p.batchNorm)!;
      expect(node.op).toBe("batchNorm");
      if (node.op === "batchNorm") {
        if (node.gamma) expect([...new Set(node.gamma)]).toEqual([1]);
        expect(node.variance.every((v, k) => Math.abs(v + node.epsilon - 1) < 1e-7 && k >= 0)).toBe(true);
      }
      const before = folded.nodes.find((n) => n.name === p.into)!;
      const after = reread.nodes.find((n) => n.name === p.into)!;
      if (isPrunable(before) && isPrunable(after)) expect(after.kernel).toEqual(before.kernel);
    }
  });

  it("storage dtypes kept where lossless: float16 quantization, uint8 with zero representable; float32 when not", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 4, activation: "relu", ...s() }), tf.layers.dense({ units: 3, ...s() })] });
    const saved = await saveToMemory(model);
    const specs = saved.modelJson.weightsManifest[0].weights;
    // Re-encode: kernel 1 and bias 1 float16-quantized, kernel 2 uint8 (min = −128·scale), bias 2 uint16 (zero not representable).
    const values = new Float32Array(saved.weightData);
    const parts: Uint8Array[] = [];
    const manifest: any[] = [];
    let off = 0;
    const scale = 1 / 64;
    for (const [i, w] of specs.entries()) {
      const n = w.shape.reduce((a: number, b: number) => a * b, 1);
      const v = values.subarray(off, off + n);
      off += n;
      if (i === 0 || i === 1) {
        const q = Float32Array.from(v, (x) => Math.round(x * 256) / 256);
        parts.push(halfBytes(q));
        manifest.push({ ...w, quantization: { dtype: "float16" } });
      } else if (i === 2) {
        parts.push(Uint8Array.from(v, (x) => Math.min(255, Math.max(0, Math.round(x / scale) + 128))));
        manifest.push({ ...w, quantization: { dtype: "uint8", scale, min: -128 * scale } });
      } else {
        const q = new Uint16Array(n).map((_, k) => 100 + 7 * k);
        parts.push(new Uint8Array(q.buffer));
        manifest.push({ ...w, quantization: { dtype: "uint16", scale: 0.001, min: 0.0005 } });
      }
    }
    const data = concat(parts);
    const modelJson = { ...saved.modelJson, weightsManifest: [{ paths: ["w.bin"], weights: manifest }] };
    const original = await loadFromMemory(modelJson, data.buffer as ArrayBuffer);
    const graph = pruneHalf(parseLayersModelGraph(modelJson, data.buffer as ArrayBuffer));
    // Bias 2 gets a value that is no q·scale + min: it must fall back to float32.
    const pruned = { ...graph, nodes: graph.nodes.map((n) => (n.name === specs[3].name.split("/")[0] && n.op === "dense" ? { ...n, bias: n.bias!.map((b, k) => (k === 0 ? 0 : b)) } : n)) };
    const written = writeLayersModelGraph(modelJson, pruned);
    const out = (written.modelJson as any).weightsManifest[0].weights;
    expect(out.map((w: any) => [w.dtype, w.quantization?.dtype ?? null])).toEqual([["float32", "float16"], ["float32", "float16"], ["float32", "uint8"], ["float32", null]]);
    expect(written.weightData.byteLength).toBe(2 * 24 + 2 * 4 + 12 + 4 * 3);
    expect(new Uint8Array(written.weightData, 0, 48)).toEqual(halfBytes((pruned.nodes[1] as any).kernel));
    const loaded = await loadFromMemory(written.modelJson, written.weightData);
    const x = seededUniform(4 * 6, 9);
    expect(relativeDeviation(forwardGraph(pruned, [x], 4).outputs[0], tfPredict(loaded, [x], 4)[0])).toBeLessThan(1e-5);
    expect(relativeDeviation(tfPredict(original, [x], 4)[0], tfPredict(loaded, [x], 4)[0])).toBeGreaterThan(1e-4);
  });

  it("dtype float16 (which tfjs 4.22 does not load, but the format allows) stays float16 when lossless, float32 when not", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, useBias: false, ...s() })] });
    const saved = await saveToMemory(model);
    const w = saved.modelJson.weightsManifest[0].weights[0];
    const kernel = Float32Array.from(new Float32Array(saved.weightData), (x) => Math.round(x * 512) / 512);
    const modelJson = { ...saved.modelJson, weightsManifest: [{ paths: ["w.bin"], weights: [{ ...w, dtype: "float16" }] }] };
    const graph = parseLayersModelGraph(modelJson, halfBytes(kernel).buffer as ArrayBuffer);
    expect((graph.nodes[1] as any).kernel).toEqual(kernel);
    const same = writeLayersModelGraph(modelJson, graph);
    expect((same.modelJson as any).weightsManifest[0].weights[0].dtype).toBe("float16");
    expect(new Uint8Array(same.weightData)).toEqual(halfBytes(kernel));
    const off = { ...graph, nodes: graph.nodes.map((n) => (n.op === "dense" ? { ...n, kernel: n.kernel.map((v, k) => (k === 0 ? 1 / 3 : v)) } : n)) };
    const widened = writeLayersModelGraph(modelJson, off);
    expect((widened.modelJson as any).weightsManifest[0].weights[0].dtype).toBe("float32");
    expect(new Float32Array(widened.weightData)[0]).toBe(Math.fround(1 / 3));
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Half-precision bytes of values that are exactly halves (normal or zero), from their float32 bits. */
function halfBytes(v: Float32Array): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(v).buffer);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff, mant = b & 0x7fffff;
    if (exp === 0 && mant === 0) { out[i] = sign; continue; }
    if (mant & 0x1fff || exp - 127 < -14 || exp - 127 > 15) throw new Error(`test helper: ${v[i]} is not a normal half`);
    out[i] = sign | ((exp - 127 + 15) << 10) | (mant >>> 13);
  }
  return new Uint8Array(out.buffer);
}
