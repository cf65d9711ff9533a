// Theorem 3's experiment (SPEC §5): one s-sparse ReLU neuron observed on P Gaussian samples.
// Shared by bench/theorem3.bench.ts and test/theorem3.test.ts.
import { mulberry32 } from "./seeded-random.ts";

export interface RecoveryProblem {
  P: number;
  N: number;
  /** [P, N] row-major, i.i.d. N(0, 1). */
  input: Float32Array;
  /** [P, 1] = relu(input · truth), no bias. */
  output: Float32Array;
  /** [N] the s-sparse ground truth. */
  truth: Float64Array;
}

function normals(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A seeded instance: support drawn uniformly (partial Fisher–Yates), values N(0, 1), no bias. */
export function recoveryProblem(seed: number, N: number, s: number, P: number): RecoveryProblem {
  const u = mulberry32(seed * 7919 + 17);
  const g = normals(seed * 104729 + 3);
  const index = Array.from({ length: N }, (_, i) => i);
  const truth = new Float64Array(N);
  for (let k = 0; k < s; k++) {
    const j = k + Math.floor(u() * (N - k));
    [index[k], index[j]] = [index[j], index[k]];
    truth[index[k]] = g();
  }
  const input = new Float32Array(P * N);
  for (let i = 0; i < input.length; i++) input[i] = g();
  const output = new Float32Array(P);
  for (let p = 0; p < P; p++) {
    let z = 0;
    for (let j = 0; j < N; j++) z += input[p * N + j] * truth[j];
    output[p] = Math.max(z, 0);
  }
  return { P, N, input, output, truth };
}

/** ‖ŵ − w‖ / ‖w‖ in f64. */
export function relativeRecoveryError(weights: ArrayLike<number>, truth: ArrayLike<number>): number {
  let d = 0, t = 0;
  for (let j = 0; j < truth.length; j++) {
    d += (weights[j] - truth[j]) ** 2;
    t += truth[j] ** 2;
  }
  return Math.sqrt(d / t);
}

/** Theorem 3's program: the ReLU program with ε = 0, no bias, tolerances tight enough for a 1e-3 test. */
export const RECOVERY_OPTIONS = {
  kind: "relu", epsilon: 0, fitBias: false, maxIter: 2000, absTol: 1e-9, relTol: 1e-6, dualRelTol: 1e-5,
} as const;
