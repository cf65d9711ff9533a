// ‖Ŵ‖₂ of a pruned node as a linear map of its input (bias excluded), for the graph guarantee:
//   Dense over the last axis — the same kernel at every position, so the kernel's spectral norm;
//   Conv2D — power iteration on T*T, T the convolution of one sample and T* its adjoint (the
//            transposed convolution), both below in f64: the solver's wasm convForward/convAdjoint
//            are the maps of the WEIGHTS for fixed data (unrolling·W, unrollingᵀ·B), and the graph's
//            conv2dForward stores f32, too coarse for a 1e-9 stopping rule;
//   DepthwiseConv2D — its channels are independent blocks: the largest of the per-channel norms
//            (each a one-input-channel convolution with `depthMultiplier` filters).
// Power iteration approaches the norm from below. As spectralNorm (forward.ts) does for Dense
// kernels, it runs until the estimate changes by less than 1e-9 relative in an iteration (at most
// MAX_ITERATIONS) and the result is inflated by NORM_MARGIN; test/graph-guarantee-norms.test.ts
// checks it against the exact largest singular value of the im2col matrix (never below it).
import { spectralNorm } from "./forward.ts";
import { window1D } from "./graph/shapes.ts";
import type { Pair, Padding2D, PrunableNode } from "./graph/types.ts";

export const NORM_MARGIN = 1e-6;
const MAX_ITERATIONS = 3000;
const CHANGE = 1e-9;

/** One sample's convolution: input [h, w, c], kernel [kh, kw, c, f], output [oh, ow, f]. */
export interface ConvMap {
  h: number; w: number; c: number; oh: number; ow: number; f: number;
  kernel: Float64Array;
  kernelSize: Pair; strides: Pair; dilation: Pair;
  padTop: number; padLeft: number;
}

export function convMap(kernel: Float64Array, inShape: readonly number[], f: number, kernelSize: Pair, strides: Pair, dilation: Pair, padding: Padding2D): ConvMap {
  const [h, w, c] = inShape;
  const y = window1D(h, kernelSize[0], strides[0], dilation[0], padding);
  const x = window1D(w, kernelSize[1], strides[1], dilation[1], padding);
  return { h, w, c, oh: y.out, ow: x.out, f, kernel, kernelSize, strides, dilation, padTop: y.padBefore, padLeft: x.padBefore };
}

/** Calls visit(inputPixel, outputPixel, tap) for every input pixel inside every output pixel's window. */
function eachTap(m: ConvMap, visit: (inPixel: number, outPixel: number, tap: number) => void): void {
  const [kh, kw] = m.kernelSize, [sh, sw] = m.strides, [dh, dw] = m.dilation;
  for (let oy = 0; oy < m.oh; oy++) {
    for (let ox = 0; ox < m.ow; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - m.padTop + ky * dh;
        if (iy < 0 || iy >= m.h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - m.padLeft + kx * dw;
          if (ix < 0 || ix >= m.w) continue;
          visit(iy * m.w + ix, oy * m.ow + ox, ky * kw + kx);
        }
      }
    }
  }
}

/** y = T x. */
export function convApply(m: ConvMap, x: Float64Array): Float64Array<ArrayBuffer> {
  const { c, f, kernel } = m;
  const y = new Float64Array(m.oh * m.ow * f);
  eachTap(m, (ip, op, tap) => {
    for (let ci = 0; ci < c; ci++) {
      const v = x[ip * c + ci];
      if (v === 0) continue;
      const k = (tap * c + ci) * f;
      for (let j = 0; j < f; j++) y[op * f + j] += v * kernel[k + j];
    }
  });
  return y;
}

/** x = T* y: the adjoint (transposed convolution), ⟨T x, y⟩ = ⟨x, T* y⟩. */
export function convAdjointApply(m: ConvMap, y: Float64Array): Float64Array<ArrayBuffer> {
  const { c, f, kernel } = m;
  const x = new Float64Array(m.h * m.w * c);
  eachTap(m, (ip, op, tap) => {
    for (let ci = 0; ci < c; ci++) {
      const k = (tap * c + ci) * f;
      let s = 0;
      for (let j = 0; j < f; j++) s += kernel[k + j] * y[op * f + j];
      x[ip * c + ci] += s;
    }
  });
  return x;
}

const norm2 = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

/** Largest singular value of T by power iteration on T*T (see the file's head), margin included. */
export function convNorm(m: ConvMap): number {
  // A fixed, non-symmetric start: deterministic, and not orthogonal to the top singular vector in practice.
  let v: Float64Array = new Float64Array(m.h * m.w * m.c).map((_, i) => 1 + 0.01 * ((i * 7919) % 13));
  let sigma = 0;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    const vn = norm2(v);
    if (vn === 0) return 0;
    for (let i = 0; i < v.length; i++) v[i] /= vn;
    const u = convApply(m, v);
    const previous = sigma;
    sigma = norm2(u);
    v = convAdjointApply(m, u);
    if (Math.abs(sigma - previous) <= CHANGE * sigma) break;
  }
  return sigma * (1 + NORM_MARGIN);
}

/** ‖Ŵ‖₂ of `node` with the pruned kernel `kernel`, on per-sample inputs of shape `inShape`. */
export function operatorNorm(node: PrunableNode, kernel: Float32Array, inShape: readonly number[]): number {
  if (node.op === "dense") return spectralNorm(kernel, inShape[inShape.length - 1], node.units);
  const { kernelSize, strides, dilation, padding } = node;
  if (node.op === "conv2d") return convNorm(convMap(Float64Array.from(kernel), inShape, node.filters, kernelSize, strides, dilation, padding));
  const c = inShape[2], mult = node.depthMultiplier, taps = kernelSize[0] * kernelSize[1];
  let largest = 0;
  for (let ci = 0; ci < c; ci++) {
    // Channel ci: kernel [kh, kw, 1, mult], the taps' slices [ci·mult, (ci + 1)·mult) of [kh, kw, c, mult].
    const k = new Float64Array(taps * mult);
    for (let t = 0; t < taps; t++) for (let j = 0; j < mult; j++) k[t * mult + j] = kernel[(t * c + ci) * mult + j];
    if (k.every((v) => v === 0)) continue;
    largest = Math.max(largest, convNorm(convMap(k, [inShape[0], inShape[1], 1], mult, kernelSize, strides, dilation, padding)));
  }
  return largest;
}
