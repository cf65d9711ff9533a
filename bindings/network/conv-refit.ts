// The refit on the support for a Conv2D node (refit.ts does it for Dense layers; same problem,
// same ridge, same free targets on Ω^c): every filter's kept taps (and its bias, when kept) refitted
// by least squares toward the target z, every other weight exactly zero. All filters share one
// design matrix, the im2col of the input (one row per sample and output pixel, one column per tap),
// so its Gram X̄ᵀX̄ over the taps any filter keeps is accumulated once, in f64, patch by patch,
// and so is X̄ᵀT for a target T: the im2col itself is never materialised (conv1 of the bundled
// CNN has 4.6 M patches at P = 8000). Each filter then solves on its own rows and columns.
import { window1D } from "./graph/shapes.ts";
import { conv2dForward } from "./graph/ops-conv.ts";
import type { Conv2DNode } from "./graph/types.ts";
import { factorDamped, REFIT_DAMPENING, REFIT_ROUNDS, solveFactored } from "./refit.ts";

/** Column of each tap ([kh, kw, inC] order) in the refit's design: −1 when no filter keeps it. */
interface Design {
  column: Int32Array;
  /** Taps kept by some filter, then the bias column when some filter keeps its bias. */
  n: number;
  /** The bias's column, or −1. */
  biasColumn: number;
}

function designOf(node: Conv2DNode, taps: number): Design {
  const F = node.filters;
  const column = new Int32Array(taps).fill(-1);
  let n = 0;
  for (let t = 0; t < taps; t++) {
    for (let f = 0; f < F; f++) if (node.kernel[t * F + f] !== 0) { column[t] = n++; break; }
  }
  const biasColumn = node.bias && node.bias.some((b) => b !== 0) ? n++ : -1;
  return { column, n, biasColumn };
}

/**
 * Calls `visit(patch, index, value, count)` for every output pixel of every sample (patch = its
 * row in the output, [rows, oh, ow]) with the nonzero entries of its im2col row restricted to the
 * design's columns, in increasing column order, the bias's 1 last.
 */
function forEachPatch(
  node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], d: Design,
  visit: (patch: number, index: Int32Array, value: Float64Array, count: number) => void,
): void {
  const [H, W, C] = inShape;
  const [oh, ow] = node.shape;
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dw] = node.dilation;
  const padTop = window1D(H, kh, sh, dh, node.padding).padBefore;
  const padLeft = window1D(W, kw, sw, dw, node.padding).padBefore;
  const index = new Int32Array(d.n);
  const value = new Float64Array(d.n);
  let patch = 0;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, patch++) {
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx * dw;
            if (ix < 0 || ix >= W) continue;
            const xo = ((p * H + iy) * W + ix) * C, to = (ky * kw + kx) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xo + c], col = d.column[to + c];
              if (v !== 0 && col >= 0) { index[count] = col; value[count++] = v; }
            }
          }
        }
        if (d.biasColumn >= 0) { index[count] = d.biasColumn; value[count++] = 1; }
        visit(patch, index, value, count);
      }
    }
  }
}

/** X̄ᵀX̄ over the design's columns ([n, n] row-major, f64), X̄ the im2col of x. */
function convGram(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], d: Design): Float64Array {
  const n = d.n;
  const g = new Float64Array(n * n);
  forEachPatch(node, x, rows, inShape, d, (_, index, value, count) => {
    for (let a = 0; a < count; a++) {
      const row = index[a] * n, va = value[a];
      for (let b = a; b < count; b++) g[row + index[b]] += va * value[b];
    }
  });
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j];
  return g;
}

/** X̄ᵀT ([n, filters] row-major, f64) for a target T [rows·oh·ow, filters]. */
function convCross(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], d: Design, t: ArrayLike<number>): Float64Array {
  const F = node.filters;
  const r = new Float64Array(d.n * F);
  forEachPatch(node, x, rows, inShape, d, (patch, index, value, count) => {
    const to = patch * F;
    for (let a = 0; a < count; a++) {
      const ro = index[a] * F, va = value[a];
      for (let f = 0; f < F; f++) r[ro + f] += va * t[to + f];
    }
  });
  return r;
}

/**
 * The refit of Conv2D node `node` (its zeros are the support) on input `x` ([rows, ...inShape])
 * toward its pre-activation target `z` ([rows, oh, ow, filters]): per filter
 *   min ‖(X̄_S w − z)_Ω‖² + ‖(X̄_S w)₊ on Ω^c‖² + δ‖w‖²   (relu; else ‖X̄_S w − z‖² + δ‖w‖²),
 * δ = λ·mean diagonal of X̄_SᵀX̄_S, by the alternation of refitLayer: the solve with t = z, or the
 * node's own weights if their objective is lower, then `rounds` − 1 times t = min(X̄_S w, 0) on Ω^c
 * and solve again (one factorization per filter). Returns the f32 kernel and bias (null when the
 * node has none); a filter whose kept inputs are zero on every patch gets zero weights.
 */
export function refitConvNode(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], z: Float32Array, relu: boolean, rounds = REFIT_ROUNDS, lambda = REFIT_DAMPENING): { kernel: Float32Array; bias: Float32Array | null } {
  const F = node.filters, taps = node.kernel.length / F;
  const d = designOf(node, taps);
  const gram = convGram(node, x, rows, inShape, d);
  // Per filter: its columns, and its damped normal matrix factored once (null: nothing to fit).
  const filters = Array.from({ length: F }, (_, f) => {
    const cols: number[] = [], taps_: number[] = [];
    for (let t = 0; t < taps; t++) if (node.kernel[t * F + f] !== 0) { cols.push(d.column[t]); taps_.push(t); }
    const withBias = !!node.bias && node.bias[f] !== 0;
    if (withBias) cols.push(d.biasColumn);
    const k = cols.length;
    const a = new Float64Array(k * k);
    for (let s = 0; s < k; s++) for (let u = 0; u < k; u++) a[s * k + u] = gram[cols[s] * d.n + cols[u]];
    const delta = k > 0 ? factorDamped(a, k, lambda) : 0;
    return { cols, taps: taps_, withBias, k, a, delta };
  });
  /** The weights that solve every filter's normal equations for the target t. */
  const solve = (t: ArrayLike<number>) => {
    const r = convCross(node, x, rows, inShape, d, t);
    const kernel = new Float32Array(node.kernel.length);
    const bias = node.bias ? new Float32Array(F) : null;
    for (let f = 0; f < F; f++) {
      const { cols, taps: kept, withBias, k, a, delta } = filters[f];
      if (delta === 0) continue; // no kept input is ever nonzero: the filter's weights are zero
      const w = solveFactored(a, Float64Array.from(cols, (c) => r[c * F + f]), k);
      kept.forEach((tap, s) => { kernel[tap * F + f] = w[s]; });
      if (withBias) bias![f] = w[k - 1];
    }
    return { kernel, bias };
  };
  let best = solve(z);
  if (!relu) return best;
  /** Each filter's objective at these weights (measured on their f32 values), and their outputs. */
  const objectives = (w: { kernel: Float32Array; bias: Float32Array | null }) => {
    const out = conv2dForward({ ...node, ...w }, x, rows, inShape);
    const f64 = new Float64Array(F);
    for (let i = 0; i < out.length; i++) {
      const zi = z[i], v = out[i];
      f64[i % F] += zi > 0 ? (v - zi) ** 2 : v > 0 ? v * v : 0;
    }
    for (let f = 0; f < F; f++) {
      let sq = 0;
      for (const tap of filters[f].taps) sq += w.kernel[tap * F + f] ** 2;
      if (filters[f].withBias) sq += w.bias![f] ** 2;
      f64[f] += filters[f].delta * sq;
    }
    return { f64, out };
  };
  // Per filter, the lower of the first solve and the node's own weights, then the alternation.
  const own = { kernel: node.kernel, bias: node.bias };
  const mine = objectives(own), solved = objectives(best);
  let out = solved.out;
  for (let f = 0; f < F; f++) {
    if (!(mine.f64[f] < solved.f64[f])) continue;
    for (const tap of filters[f].taps) best.kernel[tap * F + f] = own.kernel[tap * F + f];
    if (filters[f].withBias) best.bias![f] = own.bias![f];
    for (let i = f; i < out.length; i += F) out[i] = mine.out[i];
  }
  for (let round = 1; round < rounds; round++) {
    const t = new Float32Array(z.length);
    for (let i = 0; i < t.length; i++) t[i] = z[i] > 0 ? z[i] : Math.min(out[i], 0);
    best = solve(t);
    if (round + 1 < rounds) out = conv2dForward({ ...node, ...best }, x, rows, inShape);
  }
  return best;
}
