// Seeded problem generators and independent f64 measurements for the tests.

import { mulberry32 } from "../../examples/seeded-random.ts";
import type { DenseNetwork } from "../../bindings/network/network.ts";

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export const rng = mulberry32;

/** Standard normal numbers (Box–Muller) from a seeded uniform source. */
export function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export interface Problem {
  P: number;
  N: number;
  M: number;
  input: Float32Array;
  output: Float32Array;
  weights: Float32Array;
  bias: Float32Array;
}

/** A relu (or linear) layer with sparse random weights on Gaussian inputs; `zeroInputs` zeroes that fraction of inputs. */
export function randomLayer(seed: number, P: number, N: number, M: number, opts: { linear?: boolean; density?: number; zeroInputs?: number } = {}): Problem {
  const g = gaussian(seed);
  const u = rng(seed + 1);
  const input = new Float32Array(P * N);
  for (let i = 0; i < input.length; i++) input[i] = opts.zeroInputs && u() < opts.zeroInputs ? 0 : g();
  const weights = new Float32Array(N * M);
  const density = opts.density ?? 0.3;
  for (let i = 0; i < weights.length; i++) weights[i] = u() < density ? g() : 0;
  const bias = new Float32Array(M).map(() => 0.1 * g());
  const output = forward(input, weights, bias, P, N, M, !opts.linear);
  return { P, N, M, input, output, weights, bias };
}

/** act(input·W + b) in f64, stored f32. */
export function forward(input: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, P: number, N: number, M: number, relu: boolean): Float32Array {
  const out = new Float32Array(P * M);
  const z = new Float64Array(M);
  for (let p = 0; p < P; p++) {
    for (let m = 0; m < M; m++) z[m] = b[m];
    for (let n = 0; n < N; n++) {
      const x = input[p * N + n];
      if (x === 0) continue;
      for (let m = 0; m < M; m++) z[m] += x * w[n * M + m];
    }
    for (let m = 0; m < M; m++) out[p * M + m] = relu ? Math.max(z[m], 0) : z[m];
  }
  return out;
}

export interface Measured {
  fit: number;
  leakage: number;
  outputError: number;
  l1: number;
  nnz: number;
}

/** The bias column's value the program uses: the largest RMS input column, from the columns' own sums. */
export function biasUnit(input: ArrayLike<number>, P: number, N: number): number {
  let best = 0;
  for (let n = 0; n < N; n++) {
    let sq = 0;
    for (let p = 0; p < P; p++) sq += input[p * N + n] ** 2;
    best = Math.max(best, sq);
  }
  return best > 0 ? Math.sqrt(best / P) : 1;
}

/** Recomputes, in f64 from the RETURNED weights and the original data, what info claims (l1: the objective ‖W‖₁ + ‖b‖₁/biasUnit). */
export function measure(pr: { P: number; N: number; M: number; input: ArrayLike<number>; output: ArrayLike<number> }, weights: ArrayLike<number>, bias: ArrayLike<number>, opts: { linear?: boolean; upperBound?: ArrayLike<number> } = {}): Measured {
  const { P, N, M, input, output } = pr;
  let fit = 0, leak = 0, out = 0, l1 = 0, nnz = 0;
  const unit = biasUnit(input, P, N);
  for (let i = 0; i < N * M; i++) { l1 += Math.abs(weights[i]); if (weights[i] !== 0) nnz++; }
  for (let m = 0; m < M; m++) { l1 += Math.abs(bias[m]) / unit; if (bias[m] !== 0) nnz++; }
  for (let p = 0; p < P; p++) {
    for (let m = 0; m < M; m++) {
      let z = bias[m];
      for (let n = 0; n < N; n++) z += input[p * N + n] * weights[n * M + m];
      const y = output[p * M + m];
      if (opts.linear) { fit += (z - y) ** 2; out += (z - y) ** 2; continue; }
      out += (Math.max(z, 0) - y) ** 2;
      if (y > 0) fit += (z - y) ** 2;
      else leak = Math.max(leak, z - (opts.upperBound ? opts.upperBound[p * M + m] : 0));
    }
  }
  return { fit: Math.sqrt(fit), leakage: leak, outputError: Math.sqrt(out), l1, nnz };
}

export function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** ‖A‖₂ of an [n, m] row-major matrix by power iteration on AᵀA in f64 (the test's own). */
export function spectralNorm(a: ArrayLike<number>, n: number, m: number): number {
  let v = new Float64Array(m).fill(1 / Math.sqrt(m));
  let sigma = 0;
  for (let it = 0; it < 1000; it++) {
    const av = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) av[i] += a[i * m + j] * v[j];
    const w = new Float64Array(m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) w[j] += a[i * m + j] * av[i];
    const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
    if (norm === 0) return 0;
    v = w.map((x) => x / norm);
    sigma = Math.sqrt(norm);
  }
  return sigma;
}

/** A seeded ReLU MLP (layer sizes `sizes`, 60% of weights nonzero) with a linear last layer, and Gaussian calibration inputs [P, sizes[0]]. */
export function seededNetwork(seed: number, sizes: number[], P: number): { network: DenseNetwork; input: Float32Array } {
  const g = gaussian(seed), u = rng(seed + 1);
  const layers = sizes.slice(1).map((units, i) => {
    const inputs = sizes[i];
    const kernel = new Float32Array(inputs * units).map(() => (u() < 0.6 ? g() / Math.sqrt(inputs) : 0));
    const bias = new Float32Array(units).map(() => 0.1 * g());
    return { name: `dense${i + 1}`, activation: (i === sizes.length - 2 ? "linear" : "relu") as "relu" | "linear", kernel, bias, useBias: true, inputs, units };
  });
  const input = new Float32Array(P * sizes[0]).map(() => g());
  return { network: { layers, inputSize: sizes[0] }, input };
}

/** max |a − b| / max |b|. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0, top = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    top = Math.max(top, Math.abs(b[i]));
  }
  return top > 0 ? worst / top : worst;
}

/** Every layer's output of `network` on `input` ([P, inputSize]), relu on all but the last, with forward above. */
export function networkSignals(network: DenseNetwork, input: Float32Array, P: number): Float32Array[] {
  const out: Float32Array[] = [];
  let s = input;
  network.layers.forEach((l, i) => {
    s = forward(s, l.kernel, l.bias, P, l.inputs, l.units, i < network.layers.length - 1);
    out.push(s);
  });
  return out;
}
