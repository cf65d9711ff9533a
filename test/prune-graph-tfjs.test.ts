// pruneGraph on a real TF.js functional model (conv + BatchNorm + ReLU layer, a residual Add, a
// softmax head): read → prune (cascade) → write → tf.loadLayersModel predicts what our forward
// pass of the returned graph does, within 1e-5; the reported end-to-end error is TF.js's own.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { forwardGraph, parseLayersModelGraph, pruneGraph, writeLayersModelGraph } from "../bindings/index.ts";
import { init, loadFromMemory, relativeDeviation, saveToMemory, seededUniform, tfPredict } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

let seed = 900;
const s = () => init(seed++);
const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;

function model(): tf.LayersModel {
  const a = tf.input({ shape: [8, 8, 2] });
  const c1 = sym(tf.layers.conv2d({ name: "c1", filters: 4, kernelSize: 3, padding: "same", ...s() }), a);
  const bn = tf.layers.batchNormalization({
    name: "bn1",
    gammaInitializer: tf.initializers.randomNormal({ seed: seed++, mean: 1, stddev: 0.3 }),
    betaInitializer: tf.initializers.randomNormal({ seed: seed++, stddev: 0.2 }),
    movingMeanInitializer: tf.initializers.randomNormal({ seed: seed++, stddev: 0.2 }),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed++ }),
  });
  const r1 = sym(tf.layers.reLU({ name: "r1" }), sym(bn, c1));
  const c2 = sym(tf.layers.conv2d({ name: "c2", filters: 4, kernelSize: 3, padding: "same", ...s() }), r1);
  const sum = sym(tf.layers.activation({ name: "r2", activation: "relu" }), sym(tf.layers.add({ name: "sum" }), [c2, r1]));
  const pooled = sym(tf.layers.maxPooling2d({ poolSize: 2 }), sum);
  const h = sym(tf.layers.dense({ name: "h", units: 12, activation: "relu", ...s() }), sym(tf.layers.flatten(), pooled));
  const out = sym(tf.layers.dense({ name: "out", units: 3, activation: "softmax", ...s() }), h);
  return tf.model({ inputs: a, outputs: out });
}

describe("pruneGraph on a TF.js functional model", () => {
  it("read → cascade → write → tf.loadLayersModel: predictions equal our forward pass within 1e-5; the error reported is TF.js's", async () => {
    const m = model();
    const saved = await saveToMemory(m);
    const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
    const S = 40;
    const x = seededUniform(S * 128, 17);
    const r = await pruneGraph(graph, { data: x, shape: [S, 8, 8, 2] }, { mode: "cascade", epsilonGain: 0.05 });
    expect(r.status).toBe("solved");
    expect(r.foldedBatchNorms).toEqual([{ batchNorm: "bn1", into: "c1" }]);
    expect(r.layers.map((l) => [l.name, l.program])).toEqual([["c1", "relu"], ["c2", "linear"], ["h", "relu"], ["out", "linear"]]);
    expect(r.layers[0].programReason).toBe(`followed by ReLU node "r1"`);
    const kept = r.layers.reduce((a, l) => a + l.nnzAfter, 0) / r.layers.reduce((a, l) => a + l.nnzBefore, 0);
    expect(kept).toBeLessThan(0.9);

    const written = writeLayersModelGraph(saved.modelJson, r.graph);
    const loaded = await loadFromMemory(written.modelJson, written.weightData);
    const ours = forwardGraph(r.graph, [x], S).outputs[0];
    const theirs = tfPredict(loaded, [x], S)[0];
    expect(relativeDeviation(ours, theirs)).toBeLessThan(1e-5);
    // End-to-end error on the softmax outputs, against the unpruned model as TF.js runs it.
    const original = tfPredict(m, [x], S)[0];
    let sq = 0, n2 = 0;
    for (let i = 0; i < original.length; i++) {
      sq += (theirs[i] - original[i]) ** 2;
      n2 += original[i] ** 2;
    }
    expect(r.outputError.relative).toBeCloseTo(Math.sqrt(sq / n2), 5);
    expect(r.outputError.relative).toBeGreaterThan(0);
  });
});
