// BatchNorm folding: the folded weights are the f64 formula rounded once (bit for bit), the folded
// graph computes what the unfolded one does, and BatchNorms that cannot fold are left alone.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { foldBatchNorms, forwardGraph, isPrunable, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { init, relativeDeviation, saveToMemory, seededUniform } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

let seed = 1300;
const s = () => init(seed++);
const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
function bn(name: string, center = true, scale = true): tf.layers.Layer {
  return tf.layers.batchNormalization({
    name, center, scale, epsilon: 0.01,
    gammaInitializer: tf.initializers.randomNormal({ seed: seed++, mean: 1, stddev: 0.5 }),
    betaInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingMeanInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.05, maxval: 4, seed: seed++ }),
  });
}

async function graphOf(model: tf.LayersModel): Promise<ModelGraph> {
  const saved = await saveToMemory(model);
  return parseLayersModelGraph(saved.modelJson, saved.weightData);
}

function foldable(): tf.LayersModel {
  const a = tf.input({ shape: [7, 7, 3] });
  const c1 = sym(bn("bn1"), sym(tf.layers.conv2d({ name: "c1", filters: 5, kernelSize: 3, ...s() }), a));
  const c2 = sym(bn("bn2", false), sym(tf.layers.conv2d({ name: "c2", filters: 4, kernelSize: 2, strides: 2, useBias: false, ...s() }), sym(tf.layers.reLU({}), c1)));
  const d = sym(bn("bn3", true, false), sym(tf.layers.depthwiseConv2d({ name: "dw", kernelSize: 2, depthMultiplier: 2, depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed++ }), biasInitializer: tf.initializers.randomNormal({ seed: seed++ }) }), c2));
  const dense3 = sym(bn("bn4"), sym(tf.layers.dense({ name: "d3", units: 6, ...s() }), d)); // Dense over the last axis of [2, 2, 8]
  const flat = sym(tf.layers.flatten(), dense3);
  const out = sym(bn("bn5", false, false), sym(tf.layers.dense({ name: "d", units: 3, useBias: false, ...s() }), flat));
  return tf.model({ inputs: a, outputs: out });
}

describe("foldBatchNorms", () => {
  it("kernel' = kernel·γ/√(σ² + ε) and bias' = (bias − μ)·γ/√(σ² + ε) + β, in f64 rounded once, bit for bit; the input graph untouched", async () => {
    const graph = await graphOf(foldable());
    const copies = graph.nodes.map((n) => (isPrunable(n) ? n.kernel.slice() : null));
    const { graph: folded, folded: pairs } = foldBatchNorms(graph);
    expect(pairs).toEqual([
      { batchNorm: "bn1", into: "c1" }, { batchNorm: "bn2", into: "c2" }, { batchNorm: "bn3", into: "dw" },
      { batchNorm: "bn4", into: "d3" }, { batchNorm: "bn5", into: "d" },
    ]);
    graph.nodes.forEach((n, i) => { if (isPrunable(n)) expect(n.kernel).toEqual(copies[i]); });
    for (const { batchNorm, into } of pairs) {
      const b = graph.nodes.find((n) => n.name === batchNorm)!;
      const before = graph.nodes.find((n) => n.name === into)!;
      const after = folded.nodes.find((n) => n.name === into)!;
      if (b.op !== "batchNorm" || !isPrunable(before) || !isPrunable(after)) throw new Error("unexpected ops");
      const c = b.mean.length;
      const scale = Array.from({ length: c }, (_, k) => (b.gamma ? b.gamma[k] : 1) / Math.sqrt(b.variance[k] + b.epsilon));
      const kernel = before.kernel.map((w, i) => Math.fround(w * scale[i % c]));
      const bias = Float32Array.from({ length: c }, (_, k) => Math.fround(((before.bias ? before.bias[k] : 0) - b.mean[k]) * scale[k] + (b.beta ? b.beta[k] : 0)));
      expect(after.kernel).toEqual(kernel);
      expect(after.bias).toEqual(bias);
      const identity = folded.nodes.find((n) => n.name === batchNorm)!;
      expect(identity).toMatchObject({ op: "identity", foldedBatchNorm: { epsilon: b.epsilon, into } });
    }
  });

  it("the folded graph's outputs and signals equal the unfolded graph's (f32 rounding of the folded weights only)", async () => {
    const graph = await graphOf(foldable());
    const { graph: folded } = foldBatchNorms(graph);
    const rows = 9;
    const x = seededUniform(rows * 147, 21);
    const request = { outputsOf: ["bn1", "bn2", "bn3", "bn4"] };
    const a = forwardGraph(graph, [x], rows, request), b = forwardGraph(folded, [x], rows, request);
    expect(relativeDeviation(b.outputs[0], a.outputs[0])).toBeLessThan(2e-6);
    for (const n of request.outputsOf) expect(relativeDeviation(b.values.get(n)!, a.values.get(n)!)).toBeLessThan(2e-6);
  });

  it("leaves alone a BatchNorm after an activation, after a layer whose output is also used elsewhere or is a model output, and after a pooling", async () => {
    const a = tf.input({ shape: [6, 6, 2] });
    const c1 = sym(tf.layers.conv2d({ name: "relu_conv", filters: 3, kernelSize: 3, activation: "relu", ...s() }), a);
    const b1 = sym(bn("after_relu"), c1);
    const c2 = sym(tf.layers.conv2d({ name: "shared_out", filters: 3, kernelSize: 1, ...s() }), b1);
    const b2 = sym(bn("after_shared"), c2);
    const sum = sym(tf.layers.add(), [b2, c2]);
    const p = sym(bn("after_pool"), sym(tf.layers.maxPooling2d({ poolSize: 2 }), sum));
    const c3 = sym(tf.layers.conv2d({ name: "is_output", filters: 2, kernelSize: 1, ...s() }), p);
    const b3 = sym(bn("after_output"), c3);
    const graph = await graphOf(tf.model({ inputs: a, outputs: [b3, c3] }));
    const { graph: folded, folded: pairs } = foldBatchNorms(graph);
    expect(pairs).toEqual([]);
    expect(folded.nodes.map((n) => n.op)).toEqual(graph.nodes.map((n) => n.op));
  });
});
