// Two interleaved spirals (the NIPS supplement's toy data), generated from a seed.
import { mulberry32 } from "./seeded-random.ts";

export interface SpiralData {
  /** [n, 2] row-major points. */
  x: Float32Array;
  /** [n] class 0 or 1. */
  labels: Uint8Array;
}

/** The spirals' settings: 1.75 turns, radius 0 → 1, Gaussian noise 0.02 on each coordinate. */
export const SPIRAL_TURNS = 1.75;
export const SPIRAL_NOISE = 0.02;
/** The seeds of the bundled model's training set and test set. */
export const SPIRAL_TRAIN_SEED = 2017;
export const SPIRAL_TEST_SEED = 2018;

/**
 * `perClass` points on each arm, alternating classes. Arm c at angle t: radius r = t/(2π·turns)
 * (r in [0.05, 1]), point r·(cos(t + cπ), sin(t + cπ)) plus noise; t drawn uniformly in radius.
 */
export function spirals(seed: number, perClass: number): SpiralData {
  const u = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const n = 2 * perClass;
  const x = new Float32Array(n * 2);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const r = 0.05 + 0.95 * u();
    const t = r * 2 * Math.PI * SPIRAL_TURNS + c * Math.PI;
    x[2 * i] = r * Math.cos(t) + SPIRAL_NOISE * normal();
    x[2 * i + 1] = r * Math.sin(t) + SPIRAL_NOISE * normal();
    labels[i] = c;
  }
  return { x, labels };
}

/** One Dense layer as the spiral bench and test read it: kernel [inputs, units] row-major. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
  activation: "relu" | "linear";
}

/** The logits of a Dense chain in f64 (its own loops: the check on the library's forward). */
export function logitsOf(layers: DenseWeights[], x: Float32Array, rows: number): Float64Array {
  let signal = Float64Array.from(x);
  for (const l of layers) {
    const next = new Float64Array(rows * l.units);
    for (let p = 0; p < rows; p++) {
      for (let j = 0; j < l.units; j++) {
        let z = l.bias[j];
        for (let i = 0; i < l.inputs; i++) z += signal[p * l.inputs + i] * l.kernel[i * l.units + j];
        next[p * l.units + j] = l.activation === "relu" ? Math.max(z, 0) : z;
      }
    }
    signal = next;
  }
  return signal;
}

/** ‖a − b‖_F / ‖b‖_F. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

/** Share of rows whose larger logit is at their label (two classes). */
export function spiralAccuracy(logits: ArrayLike<number>, labels: Uint8Array): number {
  let right = 0;
  for (let p = 0; p < labels.length; p++) if ((logits[2 * p + 1] > logits[2 * p] ? 1 : 0) === labels[p]) right++;
  return right / labels.length;
}

/** Nonzero entries of an array (the paper counts kernel weights; biases are counted apart). */
export function nonzeros(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}
