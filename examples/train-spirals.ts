// Trains the spiral network of the NIPS supplement's table (2 → 200 → 200 → 2, ReLU hidden
// layers, linear logits) on the project's seeded spirals and writes it to models/spirals-mlp/
// in TF.js LayersModel format.   Run: npx tsx examples/train-spirals.ts
// Data: examples/spirals.ts, 1,000 points per class to train (seed 2017), 1,000 to test (2018).
// Trained by PyTorch (examples/train-spirals.py: full-batch Adam, one thread, seeded), then put
// into a tfjs model and saved by it, so the files are what TF.js writes.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { SPIRAL_TEST_SEED, SPIRAL_TRAIN_SEED, spirals } from "./spirals.ts";
import { pickBackend, saveModel } from "./training.ts";

const SEED = 20171204;
const STEPS = 2000;
const LEARNING_RATE = 3e-3;
const PER_CLASS = 1000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(repoRoot, "models", "spirals-mlp");

const backend = await pickBackend(repoRoot);
const train = spirals(SPIRAL_TRAIN_SEED, PER_CLASS);
const test = spirals(SPIRAL_TEST_SEED, PER_CLASS);

const model = tf.sequential({ name: "spirals_mlp" });
model.add(tf.layers.dense({ name: "hidden1", inputShape: [2], units: 200, activation: "relu" }));
model.add(tf.layers.dense({ name: "hidden2", units: 200, activation: "relu" }));
model.add(tf.layers.dense({ name: "logits", units: 2, activation: "linear" }));

function accuracy(data: { x: Float32Array; labels: Uint8Array }): number {
  return tf.tidy(() => {
    const pred = (model.predict(tf.tensor2d(data.x, [data.labels.length, 2])) as tf.Tensor).argMax(1).dataSync();
    let ok = 0;
    for (let i = 0; i < data.labels.length; i++) if (pred[i] === data.labels[i]) ok++;
    return ok / data.labels.length;
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spirals-"));
try {
  fs.writeFileSync(path.join(dir, "train-x.f32"), train.x);
  fs.writeFileSync(path.join(dir, "train-y.u8"), train.labels);
  fs.writeFileSync(path.join(dir, "settings.json"), JSON.stringify({ seed: SEED, steps: STEPS, learningRate: LEARNING_RATE }));
  execFileSync("/usr/bin/python3", [path.join(path.dirname(fileURLToPath(import.meta.url)), "train-spirals.py"), dir], { stdio: "inherit" });
  const raw = fs.readFileSync(path.join(dir, "weights.f32"));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let at = 0;
  model.setWeights(model.getWeights().map((w) => {
    const n = w.size;
    at += n;
    return tf.tensor(all.subarray(at - n, at), w.shape);
  }));
  if (at !== all.length) throw new Error(`weights.f32 holds ${all.length} numbers, the model ${at}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
await saveModel(model, outDir);
console.log(`backend ${backend}; train ${(100 * accuracy(train)).toFixed(2)}%, test ${(100 * accuracy(test)).toFixed(2)}%; wrote ${outDir}`);
