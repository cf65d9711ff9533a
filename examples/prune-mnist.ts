// The main job on built-in data: prune every layer of the bundled MNIST model
// (models/mnist-mlp, 784-300-100-10) with Net-Trim, each layer on the original network's signals
// (the paper's parallel mode, run one layer after another), and print what it did.
// Run: npm run demo   (options: --samples 2000 --gain 0.05)
import { loadMnist, PIXELS } from "./mnist-data.ts";
import { loadDenseLayers, reluDense } from "./layer-data.ts";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const P = arg("samples", 2000);
const gain = arg("gain", 0.05);

const { trainX, testX, testLabels } = loadMnist();
const layers = loadDenseLayers();
const calibration = trainX.slice(0, P * PIXELS);

function forwardAll(x: Float32Array, rows: number, weights: { kernel: Float32Array; bias: Float32Array; inputs: number; units: number; activation: string }[]) {
  const signals = [x];
  for (const l of weights) {
    const prev = signals[signals.length - 1];
    const out = reluDense(prev, rows, l.inputs, l.kernel, l.bias, l.units);
    if (l.activation === "linear") {
      // reluDense clips at 0: recompute the logits without the clip.
      for (let p = 0; p < rows; p++)
        for (let j = 0; j < l.units; j++) {
          let z = l.bias[j];
          for (let i = 0; i < l.inputs; i++) z += prev[p * l.inputs + i] * l.kernel[i * l.units + j];
          out[p * l.units + j] = z;
        }
    }
    signals.push(out);
  }
  return signals;
}

function accuracy(logits: Float32Array, labels: Uint8Array): number {
  let right = 0;
  for (let p = 0; p < labels.length; p++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (logits[p * 10 + j] > logits[p * 10 + best]) best = j;
    if (best === labels[p]) right++;
  }
  return right / labels.length;
}

function relError(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
}

console.log(`net-trim: pruning models/mnist-mlp (${layers.map((l) => l.inputs).join("-")}-10) on ${P} training digits, ε = ${gain}·‖Y‖_F per layer\n`);
const signals = forwardAll(calibration, P, layers);
const pruned = [];
const rows = [];
for (let i = 0; i < layers.length; i++) {
  const l = layers[i];
  const kind = l.activation === "linear" ? "linear" : "relu";
  const started = performance.now();
  let last = 0;
  const r: LayerResult = await pruneLayer(matrix(signals[i], P, l.inputs), matrix(signals[i + 1], P, l.units), {
    kind, epsilonGain: gain,
    onProgress: (p) => {
      if (process.stdout.isTTY && performance.now() - last > 500) {
        last = performance.now();
        process.stdout.write(`\r  ${l.name}: iteration ${p.iteration}, primal ${p.primalResidual.toExponential(2)} / ${p.primalTolerance.toExponential(2)}, dual ${p.dualResidual.toExponential(2)} / ${p.dualTolerance.toExponential(2)}   `);
      }
    },
  });
  if (process.stdout.isTTY) process.stdout.write("\r" + " ".repeat(110) + "\r");
  pruned.push({ ...l, kernel: r.weights, bias: r.bias });
  const before = l.kernel.length + l.bias.length;
  rows.push({
    layer: l.name, kind, status: r.status, iterations: r.info.iterations,
    "nnz before": before, "nnz after": r.info.nnz, "kept %": +(100 * r.info.nnz / before).toFixed(1),
    "rel. error": +r.info.relativeOutputError.toFixed(4), "gap %": +(100 * r.info.relativeGap).toFixed(2),
    "time s": +((performance.now() - started) / 1000).toFixed(2), simd: r.info.simd,
  });
}
console.table(rows);

const testRows = testLabels.length;
const original = forwardAll(testX, testRows, layers);
const after = forwardAll(testX, testRows, pruned);
const total = layers.reduce((s, l) => s + l.kernel.length + l.bias.length, 0);
const kept = rows.reduce((s, r) => s + (r["nnz after"] as number), 0);
console.log(`\nweights kept: ${kept} of ${total} (${(100 * kept / total).toFixed(1)}%)`);
console.log(`test accuracy (${testRows} held-out digits): ${(100 * accuracy(original[3], testLabels)).toFixed(2)}% before, ${(100 * accuracy(after[3], testLabels)).toFixed(2)}% after, no fine-tuning`);
console.log(`relative logit error on the test digits: ${relError(after[3], original[3]).toFixed(4)}`);
