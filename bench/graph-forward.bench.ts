// The model graph's forward pass on 8000 MNIST digits through LeNet-style CNNs (conv-pool-conv-
// pool-dense-dense, ReLU; untrained, seeded weights: the cost does not depend on their values
// except through the zeros skipped), against @tensorflow/tfjs's cpu backend on the same model in
// the same run, alternating. Also the time to capture every prunable layer's input and pre- and
// post-activation signals. Run: npm run bench:graph [-- --samples 8000]. Prints a table and
// writes bench/results/graph-forward-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { forwardGraph, isPrunable, parseLayersModelGraph } from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { init, relativeDeviation, saveToMemory, tfPredict } from "../test/helpers/tfjs-models.ts";

const i = process.argv.indexOf("--samples");
const P = i > 0 ? Number(process.argv[i + 1]) : 8000;
await tf.setBackend("cpu");
const x = loadMnist().trainX.subarray(0, P * 784);

function lenet(c1: number, c2: number, hidden: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: c1, kernelSize: 5, activation: "relu", ...init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: c2, kernelSize: 5, activation: "relu", ...init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: hidden, activation: "relu", ...init(3) }),
      tf.layers.dense({ units: 10, ...init(4) }),
    ],
  });
}

function seconds(f: () => unknown): number {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}

const rows: Record<string, unknown>[] = [];
for (const [name, c1, c2, hidden] of [["LeNet-5 widths (6, 16, 120)", 6, 16, 120], ["Keras MNIST widths (32, 64, 128)", 32, 64, 128]] as const) {
  const model = lenet(c1, c2, hidden);
  const saved = await saveToMemory(model);
  const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
  const prunable = graph.nodes.filter(isPrunable).map((n) => n.name);
  const request = { outputsOf: graph.nodes.filter(isPrunable).map((n) => n.inputs[0]).concat(prunable), preActivationOf: prunable };
  const ours: number[] = [], signals: number[] = [], theirs: number[] = [];
  let deviation = 0;
  for (let rep = 0; rep < 2; rep++) {
    let a: Float32Array | undefined, b: Float32Array | undefined;
    ours.push(seconds(() => { a = forwardGraph(graph, [x], P).outputs[0]; }));
    theirs.push(seconds(() => { b = tfPredict(model, [x], P)[0]; }));
    signals.push(seconds(() => forwardGraph(graph, [x], P, request)));
    deviation = Math.max(deviation, relativeDeviation(a!, b!));
  }
  const best = (t: number[]) => Math.min(...t);
  rows.push({
    model: name, samples: P, "forwardGraph s": +best(ours).toFixed(2), "with all signals s": +best(signals).toFixed(2),
    "tfjs cpu s": +best(theirs).toFixed(2), "tfjs / ours": +(best(theirs) / best(ours)).toFixed(2), "max rel. deviation": deviation.toExponential(1),
  });
}
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/graph-forward-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, tfjs: tf.version.tfjs, rows }, null, 2));
console.log(`wrote ${file}`);
