// Small TF.js models for the graph tests: seeded initialisers, saved to memory with
// tf.io.withSaveHandler, and the comparison of our forward pass with TF.js predictions.
import * as tf from "@tensorflow/tfjs";

export interface SavedModel {
  modelJson: { format: string; modelTopology: any; weightsManifest: { paths: string[]; weights: any[] }[] };
  weightData: ArrayBuffer;
}

/** model.json + its one weight buffer, as TF.js saves them. */
export async function saveToMemory(model: tf.LayersModel): Promise<SavedModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const data = saved!.weightData;
  const weightData = Array.isArray(data) ? concatBuffers(data) : (data as ArrayBuffer);
  return {
    modelJson: { format: "layers-model", modelTopology: saved!.modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: saved!.weightSpecs! }] },
    weightData,
  };
}

function concatBuffers(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(new Uint8Array(p), o); o += p.byteLength; }
  return out.buffer;
}

/** Loads model.json + one weight buffer with tf.io.fromMemory. */
export async function loadFromMemory(modelJson: any, weightData: ArrayBuffer): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g: any) => g.weights),
    weightData,
  }));
}

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
export function seededUniform(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** TF.js's predictions for `rows` samples (one array per model output). */
export function tfPredict(model: tf.LayersModel, inputs: Float32Array[], rows: number): Float32Array[] {
  return tf.tidy(() => {
    const xs = inputs.map((x, i) => tf.tensor(x, [rows, ...(model.inputs[i].shape.slice(1) as number[])]));
    const ys = model.predict(xs.length === 1 ? xs[0] : xs);
    return (Array.isArray(ys) ? ys : [ys]).map((y) => y.dataSync() as Float32Array);
  });
}

/** max |a − b| / max |b|: the relative deviation the tests bound by 1e-5. */
export function relativeDeviation(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Seeded initialisers so that every layer's weights (biases and BatchNorm statistics included) are nonzero. */
export function init(seed: number) {
  return {
    kernelInitializer: tf.initializers.glorotNormal({ seed }),
    biasInitializer: tf.initializers.randomNormal({ seed: seed + 1, stddev: 0.3 }),
  };
}
