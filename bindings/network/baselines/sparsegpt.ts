// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately
// Pruned in One-Shot"), from the paper's algorithm, for a chain of Dense layers:
//  - layers in order, each calibrated on the already-pruned network's signals X̂ (its target is
//    the original weights applied to X̂, as in the paper);
//  - the bias is the weight of a constant input 1, the layer's last input column: it enters the
//    Hessian, receives OBS updates from the columns before it, and is ranked for the mask like
//    any weight (the counts are kernel and bias together);
//  - H = 2X̃ᵀX̃/P; an input that is zero on every sample ("dead") gets H_jj = 1 and its weights
//    are zeroed (as in the authors' code; they cannot change the calibration outputs), unless the
//    target count needs them; then 1% of the mean diagonal is added to the diagonal;
//  - U = the upper Cholesky factor of H⁻¹; columns in blocks of 128; each block's mask keeps its
//    highest w²/U_jj², taken on the weights as they stand when the block starts (adaptive mask
//    selection); column by column the pruned weights' OBS error (w − q)/U_jj updates the later
//    columns of the block at once and the columns after the block lazily.
// Exact counts: the layer's target is split over the blocks in proportion to their nonzero
// weights (the paper keeps the same share of every block; proportion to nonzeros keeps dead
// pixels from taking a share), cumulative rounding, so every block can reach its count.
import { applyLayer } from "../forward.ts";
import type { DenseLayerSpec, DenseNetwork } from "../network.ts";
import { checkBaselineArguments, type BaselinePruner } from "./baseline.ts";
import { upperCholeskyOfInverse } from "./cholesky-f64.ts";
import { gramF64 } from "../gram-f64.ts";

const BLOCK = 128;
const DAMPENING = 0.01;

/** H = 2X̃ᵀX̃/P over the inputs and, when `withBias`, a last column of ones. */
function hessian(x: Float32Array, P: number, N: number, withBias: boolean): Float64Array {
  const h = gramF64(x, P, N, withBias);
  const scale = 2 / P;
  for (let i = 0; i < h.length; i++) h[i] *= scale;
  return h;
}

/** Per-block kept counts summing to `keep`, in proportion to `weights` (cumulative rounding, exact integers). */
function splitKeep(keep: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map(() => 0);
  let cumulative = 0, before = 0;
  return weights.map((w) => {
    cumulative += w;
    const through = Math.floor((2 * keep * cumulative + total) / (2 * total));
    const share = through - before;
    before = through;
    return share;
  });
}

/** The `keep` entries of a block with the highest scores (ties to the lower flat index), as a 0/1 mask. */
function topMask(score: Float64Array, keep: number): Uint8Array {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
  const mask = new Uint8Array(score.length);
  for (let t = 0; t < keep; t++) mask[order[t]] = 1;
  return mask;
}

/** One layer: returns its kernel and bias with exactly `keep` nonzeros (for a dense trained layer). */
function sparseGptLayer(layer: DenseLayerSpec, x: Float32Array, P: number, keep: number): { kernel: Float32Array; bias: Float32Array } {
  const N = layer.inputs, M = layer.units;
  const n = N + (layer.useBias ? 1 : 0);
  // W: row j = the weights of input j (the kernel's row layout); row N = the bias.
  const w = new Float64Array(n * M);
  for (let i = 0; i < N * M; i++) w[i] = layer.kernel[i];
  if (layer.useBias) for (let o = 0; o < M; o++) w[N * M + o] = layer.bias[o];
  const h = hessian(x, P, N, layer.useBias);
  const dead: number[] = [];
  for (let j = 0; j < n; j++) if (h[j * n + j] === 0) dead.push(j);
  const nonzeros = (j: number) => { let c = 0; for (let o = 0; o < M; o++) if (w[j * M + o] !== 0) c++; return c; };
  const liveNonzeros = Array.from({ length: n }, (_, j) => (h[j * n + j] === 0 ? 0 : nonzeros(j))).reduce((a, b) => a + b, 0);
  for (const j of dead) {
    h[j * n + j] = 1;
    if (keep <= liveNonzeros) w.fill(0, j * M, (j + 1) * M);
  }
  let meanDiagonal = 0;
  for (let j = 0; j < n; j++) meanDiagonal += h[j * n + j] / n;
  for (let j = 0; j < n; j++) h[j * n + j] += DAMPENING * meanDiagonal;
  const u = upperCholeskyOfInverse(h, n);

  const starts = Array.from({ length: Math.ceil(n / BLOCK) }, (_, b) => b * BLOCK);
  const blockNonzeros = starts.map((s) => { let c = 0; for (let j = s; j < Math.min(s + BLOCK, n); j++) c += nonzeros(j); return c; });
  const totalNonzeros = blockNonzeros.reduce((a, b) => a + b, 0);
  const blockKeep = splitKeep(keep, keep <= totalNonzeros ? blockNonzeros : starts.map((s) => (Math.min(s + BLOCK, n) - s) * M));
  for (const [b, i1] of starts.entries()) {
    const i2 = Math.min(i1 + BLOCK, n);
    const score = new Float64Array((i2 - i1) * M);
    for (let j = i1; j < i2; j++) {
      const d2 = u[j * n + j] ** 2;
      for (let o = 0; o < M; o++) score[(j - i1) * M + o] = w[j * M + o] ** 2 / d2;
    }
    const mask = topMask(score, blockKeep[b]);
    const err = new Float64Array((i2 - i1) * M);
    for (let j = i1; j < i2; j++) {
      const d = u[j * n + j];
      const rj = j * M, re = (j - i1) * M;
      for (let o = 0; o < M; o++) {
        if (mask[re + o]) continue;
        err[re + o] = w[rj + o] / d;
        w[rj + o] = 0;
      }
      // OBS update of the block's later columns: W[k,:] −= U[j][k]·err_j.
      for (let k = j + 1; k < i2; k++) {
        const ujk = u[j * n + k];
        if (ujk === 0) continue;
        const rk = k * M;
        for (let o = 0; o < M; o++) w[rk + o] -= ujk * err[re + o];
      }
    }
    // Lazy update of the columns after the block with the block's errors.
    for (let k = i2; k < n; k++) {
      const rk = k * M;
      for (let j = i1; j < i2; j++) {
        const ujk = u[j * n + k];
        if (ujk === 0) continue;
        const re = (j - i1) * M;
        for (let o = 0; o < M; o++) w[rk + o] -= ujk * err[re + o];
      }
    }
  }
  const kernel = Float32Array.from(w.subarray(0, N * M));
  const bias = layer.useBias ? Float32Array.from(w.subarray(N * M, n * M)) : new Float32Array(M);
  return { kernel, bias };
}

/** SparseGPT at exactly `perLayerNonzeros[i]` kept parameters (kernel and bias) in layer i. */
export const sparseGptPrune: BaselinePruner = (network, calibration, perLayerNonzeros) => {
  const x0 = checkBaselineArguments(network, calibration, perLayerNonzeros);
  const P = x0.rows;
  let x = x0.data;
  const layers: DenseLayerSpec[] = [];
  for (const [li, layer] of network.layers.entries()) {
    const pruned = { ...layer, ...sparseGptLayer(layer, x, P, perLayerNonzeros[li]) };
    layers.push(pruned);
    if (li + 1 < network.layers.length) x = applyLayer(pruned, x, P, layer.activation === "relu");
  }
  return { ...network, layers } satisfies DenseNetwork;
};
