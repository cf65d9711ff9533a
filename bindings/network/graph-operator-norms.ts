// ‖Ŵ‖₂ of a pruned node as a linear map of its input (bias excluded), for the graph guarantee.
//   Dense over the last axis — the same kernel at every position, so the kernel's spectral norm,
//     by certifiedSpectralNorm (certified-norm.ts), as pruneNetwork's Theorem 1: proved from
//     above by a Cholesky check where the Gram matrix is affordable, else power iteration's
//     estimate ×(1 + 1e-6), and `proved: false`.
//   Conv2D — an upper bound that is never below the norm: one sample's convolution is the circular
//     convolution on a torus large enough to hold the input with its padding (no window wraps onto
//     data), with the input embedded (an isometry) and the outputs it needs selected (norm ≤ 1; a
//     stride only selects fewer). The circular convolution is block-diagonalised by the 2-D DFT,
//     so its norm is max over the torus's frequencies ω of σ_max(K̂(ω)), K̂(ω) = Σ_taps K[tap]·e^{−i⟨ω, tap·dilation⟩},
//     a [inC, filters] complex matrix; σ_max of each by largestSingularValue (never below it either).
//     Power iteration with the convolution and its adjoint was tried first: on conv1 of the
//     bundled CNN it stopped 1.1e-6 below the exact norm (a near-degenerate top of the spectrum),
//     under its 1e-6 margin. The bound exceeds the exact norm by the torus's boundary effect:
//     +1.5% on conv1 (28×28 input), +7.1% on conv2 (12×12), measured against the SVD of the
//     explicit matrices; test/graph-guarantee-norms.test.ts checks it against exact SVDs.
//     Its cost is (frequencies) × (order 2·min(inC, filters))³ × 30 squarings: on InceptionV3's
//     35×35 and 17×17 convs about 12 hours in all. Above TORUS_WORK_LIMIT (and for every 1×1
//     kernel) the patches bound is used instead, also never below the norm: conv(x) = Patches(x)·K
//     with K the [kh·kw·inC, filters] kernel matrix and Patches(x) the im2col matrix, whose
//     Frobenius norm is at most √(the most (window, tap) pairs reading one input cell)·‖x‖_F, so
//     ‖conv‖ ≤ √reads · σ_max(K): one real matrix, no frequencies; exact for a 1×1 kernel (one
//     read per cell), looser than the torus bound by up to √(taps) otherwise.
//   DepthwiseConv2D — its channels are independent blocks: the largest channel's bound (each a
//     convolution of one input channel with `depthMultiplier` filters; with multiplier 1 the
//     symbol is a scalar, its modulus exact).
import { certifiedSpectralNorm, type NormBound } from "./certified-norm.ts";
import { window1D } from "./graph/shapes.ts";
import type { Pair, Padding2D, PrunableNode } from "./graph/types.ts";
import { largestSingularValue } from "./graph-lipschitz.ts";

interface ConvGeometry {
  /** Per-sample input [h, w] of the node. */
  input: Pair;
  kernelSize: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Padding2D;
}

/** The torus size along one axis: holds the input, its padding, and every window and output without wrapping. */
function torusAxis(size: number, k: number, s: number, d: number, padding: Padding2D): number {
  const { out, padBefore } = window1D(size, k, s, d, padding);
  const lastInput = (out - 1) * s + (k - 1) * d - padBefore; // the last input index a window reads
  return Math.max(size + padBefore, lastInput + 1, (out - 1) * s + 1);
}

/** Multiply-adds (about) above which a conv gets the patches bound instead of the torus bound: ~2 s here. */
const TORUS_WORK_LIMIT = 1e9;

/** The most (output, tap) pairs along one axis that read the same input cell. */
function readsPerCell(size: number, k: number, s: number, d: number, padding: Padding2D): number {
  const { out, padBefore } = window1D(size, k, s, d, padding);
  const count = new Array<number>(size).fill(0);
  for (let o = 0; o < out; o++) {
    for (let t = 0; t < k; t++) {
      const i = o * s + t * d - padBefore;
      if (i >= 0 && i < size) count[i]++;
    }
  }
  return Math.max(0, ...count);
}

/**
 * The patches bound (see the file's head): √(reads per cell) · σ_max of the [kh·kw·c, f] kernel
 * matrix, proved as a Dense kernel's (certified-norm.ts), or by the Gram iteration where that check
 * is too costly (never unproved).
 */
export function patchesNormBound(kernel: ArrayLike<number>, c: number, f: number, g: ConvGeometry): number {
  const [kh, kw] = g.kernelSize;
  const reads = readsPerCell(g.input[0], kh, g.strides[0], g.dilation[0], g.padding) * readsPerCell(g.input[1], kw, g.strides[1], g.dilation[1], g.padding);
  const rows = kh * kw * c;
  const matrix = certifiedSpectralNorm(kernel, rows, f);
  return Math.sqrt(reads) * (matrix.proved ? matrix.norm : largestSingularValue(Float64Array.from(kernel), rows, f));
}

/**
 * Upper bound on the norm of x ↦ conv(kernel, x) for one sample, kernel [kh, kw, c, f] (see the
 * file's head): the largest σ_max(K̂(ω)) over the torus's frequencies (half of them: K̂(−ω) is
 * K̂(ω)'s conjugate, of the same singular values), or the patches bound for a 1×1 kernel and
 * above `workLimit`.
 */
export function convNormBound(kernel: ArrayLike<number>, c: number, f: number, g: ConvGeometry, workLimit = TORUS_WORK_LIMIT): number {
  const [kh, kw] = g.kernelSize, [dh, dw] = g.dilation;
  if (kh === 1 && kw === 1) return patchesNormBound(kernel, c, f, g);
  const n1 = torusAxis(g.input[0], kh, g.strides[0], dh, g.padding);
  const n2 = torusAxis(g.input[1], kw, g.strides[1], dw, g.padding);
  const order = 2 * Math.min(c, f);
  const work = ((n1 >> 1) + 1) * n2 * (order * order * 2 * Math.max(c, f) + 30 * order ** 3);
  if (work > workLimit) return patchesNormBound(kernel, c, f, g);
  const cf = c * f;
  const re = new Float64Array(cf), im = new Float64Array(cf);
  // M = A + iB has the singular values of [[A, −B], [B, A]] (each twice).
  const real = new Float64Array(4 * cf);
  let largest = 0;
  for (let a = 0; a <= n1 >> 1; a++) {
    for (let b = 0; b < n2; b++) {
      re.fill(0);
      im.fill(0);
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const phase = 2 * Math.PI * ((a * ky * dh) / n1 + (b * kx * dw) / n2);
          const cos = Math.cos(phase), sin = Math.sin(phase);
          const k0 = (ky * kw + kx) * cf;
          for (let i = 0; i < cf; i++) {
            const v = kernel[k0 + i];
            if (v === 0) continue;
            re[i] += v * cos;
            im[i] -= v * sin;
          }
        }
      }
      if (cf === 1) {
        largest = Math.max(largest, Math.hypot(re[0], im[0]));
        continue;
      }
      for (let i = 0; i < c; i++) {
        for (let j = 0; j < f; j++) {
          const r = re[i * f + j], m = im[i * f + j];
          real[i * 2 * f + j] = r;
          real[i * 2 * f + f + j] = -m;
          real[(c + i) * 2 * f + j] = m;
          real[(c + i) * 2 * f + f + j] = r;
        }
      }
      largest = Math.max(largest, largestSingularValue(real, 2 * c, 2 * f));
    }
  }
  return largest;
}

/** ‖Ŵ‖₂ of `node` with the pruned kernel `kernel`, on per-sample inputs of shape `inShape`: an upper bound, proved but for a Dense kernel too large to check. */
export function operatorNorm(node: PrunableNode, kernel: Float32Array, inShape: readonly number[]): NormBound {
  if (node.op === "dense") return certifiedSpectralNorm(kernel, inShape[inShape.length - 1], node.units);
  const geometry: ConvGeometry = { input: [inShape[0], inShape[1]], kernelSize: node.kernelSize, strides: node.strides, dilation: node.dilation, padding: node.padding };
  const c = inShape[2];
  if (node.op === "conv2d") return { norm: convNormBound(kernel, c, node.filters, geometry), proved: true };
  const mult = node.depthMultiplier, taps = node.kernelSize[0] * node.kernelSize[1];
  let largest = 0;
  for (let ci = 0; ci < c; ci++) {
    // Channel ci: kernel [kh, kw, 1, mult], the taps' slices [ci·mult, (ci + 1)·mult) of [kh, kw, c, mult].
    const k = new Float64Array(taps * mult);
    for (let t = 0; t < taps; t++) for (let j = 0; j < mult; j++) k[t * mult + j] = kernel[(t * c + ci) * mult + j];
    if (k.some((v) => v !== 0)) largest = Math.max(largest, convNormBound(k, 1, mult, geometry));
  }
  return { norm: largest, proved: true };
}
