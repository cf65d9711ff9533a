// The refit on the support (issue 11): after Net-Trim has chosen which weights to keep, the ℓ1
// objective has also shrunk the kept ones toward zero. The refit keeps every zero a zero and
// spends the budget on accuracy instead: layer by layer, in order, each output neuron's kept
// weights (and its bias, when kept) are refitted by least squares
//   min ‖X̂_S w + b − z‖² + δ‖(w, b)‖²,  δ = λ·mean diag of the normal matrix (stability only),
// in f64, with X̂ the input the pruned network (its layers before this one already refitted)
// gives the layer, and z the ORIGINAL layer's pre-activation output on the ORIGINAL network's
// signals. That target (not SparseGPT's W·X̂, the original weights on the pruned input) asks each
// layer to give back the trained network's signal itself, so a layer also corrects the drift the
// layers before it left; on the last layer it is the least-squares fit of the original logits.
import { choleskyUpperInPlace } from "./baselines/cholesky-f64.ts";
import { gramF64 } from "./gram-f64.ts";
import { applyLayer, distance, frobenius } from "./forward.ts";
import type { DenseLayerSpec } from "./network.ts";
import type { LayerRefit } from "./types.ts";

/** λ: the ridge δ = λ·(mean diagonal of X̄_SᵀX̄_S), for a solve that stays stable on collinear inputs. */
export const REFIT_DAMPENING = 1e-6;

/** Alternations of the relu layers' free targets on Ω^c with the least-squares solve. */
export const REFIT_ROUNDS = 3;


/** A + δI = UᵀU (row-major k×k, overwritten by U), δ = λ·mean diagonal; returns δ (0: A is zero, not factored). */
export function factorDamped(a: Float64Array, k: number, lambda: number): number {
  let mean = 0;
  for (let i = 0; i < k; i++) mean += a[i * k + i] / k;
  const delta = lambda * mean;
  if (!(delta > 0)) return 0; // every kept input is zero on every sample: the weights are zero
  for (let i = 0; i < k; i++) a[i * k + i] += delta;
  choleskyUpperInPlace(a, k, "the refit's normal matrix");
  return delta;
}

/** UᵀU w = r: Uᵀy = r forward, then U w = y backward. */
export function solveFactored(u: Float64Array, r: Float64Array, k: number): Float64Array {
  const y = Float64Array.from(r);
  for (let i = 0; i < k; i++) {
    let s = y[i];
    for (let j = 0; j < i; j++) s -= u[j * k + i] * y[j];
    y[i] = s / u[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let j = i + 1; j < k; j++) s -= u[i * k + j] * y[j];
    y[i] = s / u[i * k + i];
  }
  return y;
}

/**
 * The refit of one layer on input `x` ([P, inputs]) toward the pre-activation target `z`
 * ([P, units]): per output neuron, the least-squares weights over its nonzero kernel entries and
 * its bias when nonzero (ridge δ = λ·mean diagonal); every other entry stays exactly zero. f64.
 *
 * `relu`: the layer is followed by relu, so where z ≤ 0 (Ω^c) any pre-activation ≤ 0 gives the
 * same output. There the target is free in (−∞, 0]: the convex problem
 *   min_w ‖(X̄_S w − z)_Ω‖² + ‖(X̄_S w)₊ on Ω^c‖² + δ‖w‖²
 * (Net-Trim's Ω^c constraint as a one-sided penalty), by alternating minimization over w and
 * the free targets t ≤ 0 on Ω^c (one factorization): the solve with t = z, or the un-refitted
 * weights if their objective is lower, then `rounds` − 1 times t = min(X̄_S w, 0) and solve
 * again. The objective never goes up: it ends at or below the un-refitted weights'.
 */
export function refitLayer(layer: DenseLayerSpec, x: Float32Array, P: number, z: Float32Array, relu: boolean, rounds = REFIT_ROUNDS, lambda = REFIT_DAMPENING): { kernel: Float64Array; bias: Float64Array } {
  const N = layer.inputs, M = layer.units, n = N + 1;
  const g = gramF64(x, P, N, true);
  const kernel = new Float64Array(N * M);
  const bias = new Float64Array(M);
  const support = new Int32Array(n);
  let widest = 0;
  for (let o = 0; o < M; o++) {
    let k = layer.bias[o] !== 0 ? 1 : 0;
    for (let i = 0; i < N; i++) if (layer.kernel[i * M + o] !== 0) k++;
    widest = Math.max(widest, k);
  }
  const rows = new Float64Array(P * widest);
  const offOmega = new Int32Array(P);
  const free = new Float64Array(P);
  for (let o = 0; o < M; o++) {
    let k = 0;
    for (let i = 0; i < N; i++) if (layer.kernel[i * M + o] !== 0) support[k++] = i;
    const withBias = layer.bias[o] !== 0;
    if (withBias) support[k++] = N;
    if (k === 0) continue;
    const inputs = k - (withBias ? 1 : 0);
    const a = new Float64Array(k * k);
    for (let s = 0; s < k; s++) {
      const row = support[s] * n;
      for (let t = 0; t < k; t++) a[s * k + t] = g[row + support[t]];
    }
    const delta = factorDamped(a, k, lambda);
    if (delta === 0) continue;
    // X̄_S gathered row by row (contiguous for the passes below), and the samples of Ω^c.
    for (let p = 0; p < P; p++) {
      const xo = p * N, ro = p * k;
      for (let s = 0; s < inputs; s++) rows[ro + s] = x[xo + support[s]];
      if (withBias) rows[ro + k - 1] = 1;
    }
    let off = 0;
    if (relu) for (let p = 0; p < P; p++) if (!(z[p * M + o] > 0)) offOmega[off++] = p;
    const dot = (p: number, w: Float64Array) => {
      let sum = 0;
      const ro = p * k;
      for (let s = 0; s < k; s++) sum += rows[ro + s] * w[s];
      return sum;
    };
    const addRow = (r: Float64Array, p: number, t: number) => {
      const ro = p * k;
      for (let s = 0; s < k; s++) r[s] += rows[ro + s] * t;
    };
    // X̄_Sᵀz over Ω (every sample for a linear layer): the part of the right side that stays.
    const fixedSide = new Float64Array(k);
    for (let p = 0; p < P; p++) {
      const zp = z[p * M + o];
      if (zp !== 0 && (zp > 0 || !relu)) addRow(fixedSide, p, zp);
    }
    /** The solve with free targets t_j on the samples offOmega[j]. */
    const solveWith = (t: (j: number) => number) => {
      const r = Float64Array.from(fixedSide);
      for (let j = 0; j < off; j++) {
        const tj = t(j);
        if (tj !== 0) addRow(r, offOmega[j], tj);
      }
      return solveFactored(a, r, k);
    };
    // The objective at w: the fit on Ω, the leak above 0 on Ω^c, the ridge.
    const objective = (w: Float64Array) => {
      let f = 0;
      for (let p = 0; p < P; p++) {
        const zp = z[p * M + o], v = dot(p, w);
        f += zp > 0 ? (v - zp) ** 2 : v > 0 ? v * v : 0;
      }
      for (let s = 0; s < k; s++) f += delta * w[s] * w[s];
      return f;
    };
    // The first solve fits z itself (on Ω^c, z ≤ 0 is one choice of the free targets).
    let w = solveWith((j) => z[offOmega[j] * M + o]);
    if (relu) {
      // Start from whichever is lower, that solve or the un-refitted weights, then alternate:
      // targets on Ω^c to min(X̄_S w, 0), solve again. The objective never goes up.
      const own = Float64Array.from(support.subarray(0, k), (i) => (i === N ? layer.bias[o] : layer.kernel[i * M + o]));
      if (objective(own) < objective(w)) w = own;
      for (let round = 1; round < rounds; round++) {
        for (let j = 0; j < off; j++) free[j] = Math.min(dot(offOmega[j], w), 0);
        w = solveWith((j) => free[j]);
      }
    }
    for (let s = 0; s < k; s++) {
      if (support[s] === N) bias[o] = w[s];
      else kernel[support[s] * M + o] = w[s];
    }
  }
  return { kernel, bias };
}

/**
 * The refit pass over a pruned chain of Dense layers, in order (see the top of this file).
 * `relu[i]`: whether layer i is followed by relu. Returns the refitted layers (f32, the same
 * zeros or more: an input that is zero on every sample gets a zero weight) and, per layer, the
 * relative error of the refitted and of the un-refitted layer on the refit's input.
 */
export function refitNetwork(original: DenseLayerSpec[], pruned: DenseLayerSpec[], input: Float32Array, P: number, relu: boolean[]): { layers: DenseLayerSpec[]; reports: LayerRefit[] } {
  const layers: DenseLayerSpec[] = [];
  const reports: LayerRefit[] = [];
  let xOrig = input, xHat = input;
  original.forEach((l, i) => {
    const started = performance.now();
    const z = applyLayer(l, xOrig, P, false);
    const w = refitLayer(pruned[i], xHat, P, z, relu[i]);
    const spec: DenseLayerSpec = { ...pruned[i], kernel: Float32Array.from(w.kernel), bias: Float32Array.from(w.bias) };
    const target = relu[i] ? z.map((v) => (v < 0 ? 0 : v)) : z;
    const out = applyLayer(spec, xHat, P, relu[i]);
    const scale = frobenius(target) || 1;
    reports.push({
      relativeError: distance(out, target) / scale,
      unrefittedRelativeError: distance(applyLayer(pruned[i], xHat, P, relu[i]), target) / scale,
      timeMs: performance.now() - started,
    });
    layers.push(spec);
    xHat = out;
    xOrig = target;
  });
  return { layers, reports };
}
