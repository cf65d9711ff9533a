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
