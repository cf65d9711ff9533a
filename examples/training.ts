// What the training scripts share (examples/train-mnist.ts, examples/train-mnist-cnn.ts): the
// seeded shuffle and shift augmentation, the tfjs backend, the training loop, and saving and
// reloading a LayersModel with node:fs (no tfjs-node needed).
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { PIXELS, type MnistSplit } from "./mnist-data.ts";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
const CLASSES = 10;

function shuffled(n: number, rng: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/** Copies image `r` of `src` into slot `i` of `dst`, translated by a random (dx, dy), zero-filled. */
function shiftInto(src: Float32Array, r: number, dst: Float32Array, i: number, maxShift: number, rng: () => number): void {
  const o = i * PIXELS, s = r * PIXELS;
  if (maxShift === 0) { dst.set(src.subarray(s, s + PIXELS), o); return; }
  const dx = Math.floor(rng() * (2 * maxShift + 1)) - maxShift;
  const dy = Math.floor(rng() * (2 * maxShift + 1)) - maxShift;
  dst.fill(0, o, o + PIXELS);
  for (let y = 0; y < 28; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= 28) continue;
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < 28) dst[o + y * 28 + x] = src[s + sy * 28 + sx];
    }
  }
}

/** The wasm backend when it runs a gradient step, else cpu. */
export async function pickBackend(repoRoot: string): Promise<string> {
  try {
    const wasmDir = path.join(repoRoot, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist") + path.sep;
    setWasmPaths(wasmDir);
    if (await tf.setBackend("wasm")) {
      await tf.ready();
      // Smoke test: one gradient step through the ops training uses.
      const v = tf.variable(tf.randomNormal([4, 3], 0, 1, "float32", 1));
      const g = tf.grad((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot([0, 1, 2, 0], 3), tf.relu(x)))(v);
      g.dataSync(); g.dispose(); v.dispose();
      return "wasm";
    }
  } catch (e) {
    console.warn(`wasm backend unavailable (${(e as Error).message}); falling back to cpu`);
  }
  await tf.setBackend("cpu");
  await tf.ready();
  return "cpu";
}

/** Test or train accuracy; `inputShape` is the per-sample shape the model takes. */
export function accuracy(model: tf.LayersModel, x: Float32Array, labels: Uint8Array, inputShape: number[]): number {
  const n = labels.length;
  return tf.tidy(() => {
    const logits = model.predict(tf.tensor(x, [n, ...inputShape])) as tf.Tensor;
    const pred = logits.argMax(1).dataSync();
    let ok = 0;
    for (let i = 0; i < n; i++) if (pred[i] === labels[i]) ok++;
    return ok / n;
  });
}

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  /** Each training image is shifted by a seeded random (dx, dy) in [-shift, shift]. */
  shift: number;
  rng: () => number;
  inputShape: number[];
}

/** Mini-batch training from our own seeded shuffle (no tfjs shuffling); logs every 5 epochs. */
export async function train(model: tf.LayersModel, data: MnistSplit, s: TrainSettings): Promise<number> {
  const nTrain = data.trainLabels.length;
  const t0 = performance.now();
  const xb = new Float32Array(s.batchSize * PIXELS);
  const yb = new Float32Array(s.batchSize * CLASSES);
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    const perm = shuffled(nTrain, s.rng);
    let lossSum = 0, batches = 0;
    for (let start = 0; start < nTrain; start += s.batchSize) {
      const b = Math.min(s.batchSize, nTrain - start);
      yb.fill(0);
      for (let i = 0; i < b; i++) {
        const r = perm[start + i];
        shiftInto(data.trainX, r, xb, i, s.shift, s.rng);
        yb[i * CLASSES + data.trainLabels[r]] = 1;
      }
      const x = tf.tensor(xb.subarray(0, b * PIXELS), [b, ...s.inputShape]);
      const y = tf.tensor2d(yb.subarray(0, b * CLASSES), [b, CLASSES]);
      const loss = await model.trainOnBatch(x, y);
      x.dispose(); y.dispose();
      lossSum += loss as number; batches++;
    }
    if (epoch % 5 === 0 || epoch === 1 || epoch === s.epochs) {
      const testAcc = accuracy(model, data.testX, data.testLabels, s.inputShape);
      console.log(`epoch ${String(epoch).padStart(2)}  loss ${(lossSum / batches).toFixed(4)}  test acc ${(testAcc * 100).toFixed(2)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
  return (performance.now() - t0) / 1000;
}

function toArrayBuffer(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = toArrayBuffer(artifacts.weightData!);
    fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.from(weights));
    const modelJson = {
      format: artifacts.format ?? "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.byteLength } };
  }));
}

/** An IOHandler that reads model.json + its weight files from disk (what tf.loadLayersModel needs). */
function fileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = fs.readFileSync(path.join(dir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** Reloads the saved files with tf.loadLayersModel and throws unless they predict as `model` does. */
export async function checkReload(model: tf.LayersModel, dir: string, data: MnistSplit, inputShape: number[], expected: { train: number; test: number }): Promise<void> {
  const reloaded = await tf.loadLayersModel(fileHandler(dir));
  const reTest = accuracy(reloaded, data.testX, data.testLabels, inputShape);
  const reTrain = accuracy(reloaded, data.trainX, data.trainLabels, inputShape);
  const maxDiff = tf.tidy(() => {
    const x = tf.tensor(data.testX, [data.testLabels.length, ...inputShape]);
    return tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor))).dataSync()[0];
  });
  console.log(`reloaded: train ${(reTrain * 100).toFixed(2)}%, test ${(reTest * 100).toFixed(2)}%, max |logit diff| ${maxDiff}`);
  if (reTest !== expected.test || reTrain !== expected.train || maxDiff > 1e-5) throw new Error("reloaded model does not match the trained one");
}

/** The saved files' sizes and the manifest's weights, for the model's README. */
export function describeFiles(dir: string): { weightList: string; binBytes: number; jsonBytes: number } {
  const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), "utf8"));
  const weightList = (json.weightsManifest[0].weights as { name: string; shape: number[] }[])
    .map((w) => `\`${w.name}\` [${w.shape.join(", ")}]`).join(", ");
  return { weightList, binBytes: fs.statSync(path.join(dir, WEIGHTS_BIN)).size, jsonBytes: fs.statSync(path.join(dir, MODEL_JSON)).size };
}
