// Conv2D and DepthwiseConv2D forward, NHWC, as direct loops ordered for locality (no im2col copy):
// for each output pixel, accumulate in f64 over the window's input pixels, skipping zero inputs
// (pixels, relu outputs), then round once to f32. The summation order is fixed: deterministic.
import { window1D } from "./shapes.ts";
import type { Conv2DNode, DepthwiseConv2DNode } from "./types.ts";

interface Geometry {
  h: number; w: number; c: number; oh: number; ow: number; oc: number;
  padTop: number; padLeft: number;
}

function geometry(node: Conv2DNode | DepthwiseConv2DNode, inShape: readonly number[]): Geometry {
  const [h, w, c] = inShape;
  const [oh, ow, oc] = node.shape;
  const padTop = window1D(h, node.kernelSize[0], node.strides[0], node.dilation[0], node.padding).padBefore;
  const padLeft = window1D(w, node.kernelSize[1], node.strides[1], node.dilation[1], node.padding).padBefore;
  return { h, w, c, oh, ow, oc, padTop, padLeft };
}

/**
 * Runs `accumulate(inputOffset, kernelOffset)` for every input pixel inside the window of every
 * output pixel, between resetting `acc` to the bias and storing it (the depthwise conv's loop).
 */
function slideWindow(
  node: Conv2DNode | DepthwiseConv2DNode, g: Geometry, rows: number, out: Float32Array, acc: Float64Array,
  accumulate: (inputOffset: number, kernelOffset: number) => void, kernelTap: number,
): void {
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dw] = node.dilation;
  const bias = node.bias;
  let o = 0;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++, o += g.oc) {
        if (bias) acc.set(bias);
        else acc.fill(0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - g.padTop + ky * dh;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - g.padLeft + kx * dw;
            if (ix < 0 || ix >= g.w) continue;
            accumulate(((p * g.h + iy) * g.w + ix) * g.c, (ky * kw + kx) * kernelTap);
          }
        }
        for (let j = 0; j < g.oc; j++) out[o + j] = acc[j];
      }
    }
  }
}

/** The kernel [kh, kw, inC, filters] repacked as [filters / 4][kh][kw][inC][4] (zeros past the last filter). */
function packKernel(kernel: Float32Array, taps: number, filters: number): Float32Array {
  const blocks = Math.ceil(filters / 4);
  const packed = new Float32Array(blocks * taps * 4);
  for (let t = 0; t < taps; t++) {
    for (let f = 0; f < filters; f++) packed[((f >> 2) * taps + t) * 4 + (f & 3)] = kernel[t * filters + f];
  }
  return packed;
}

/**
 * Conv2D before its activation: [rows, oh, ow, filters]. Four filters at a time in f64 locals
 * over the window; where a kernel row lies inside the input (dilation 1 across), its kw·inC
 * inputs are contiguous in NHWC and so are their packed weights: one straight loop.
 */
export function conv2dForward(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const g = geometry(node, inShape);
  const F = g.oc, C = g.c, H = g.h, W = g.w;
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dw] = node.dilation;
  const taps = kh * kw * C;
  const k = packKernel(node.kernel, taps, F);
  const bias = node.bias;
  const out = new Float32Array(rows * g.oh * g.ow * F);
  const rowLength = kw * C;
  let o = 0;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const iy0 = oy * sh - g.padTop;
      for (let ox = 0; ox < g.ow; ox++, o += F) {
        const ix0 = ox * sw - g.padLeft;
        const rowsInside = dw === 1 && ix0 >= 0 && ix0 + kw <= W;
        for (let f0 = 0; f0 < F; f0 += 4) {
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          const kb = (f0 >> 2) * taps * 4;
          for (let ky = 0; ky < kh; ky++) {
            const iy = iy0 + ky * dh;
            if (iy < 0 || iy >= H) continue;
            if (rowsInside) {
              const xo = ((p * H + iy) * W + ix0) * C;
              let kk = kb + ky * rowLength * 4;
              for (let t = 0; t < rowLength; t++, kk += 4) {
                const v = x[xo + t];
                if (v === 0) continue;
                s0 += v * k[kk]; s1 += v * k[kk + 1]; s2 += v * k[kk + 2]; s3 += v * k[kk + 3];
              }
              continue;
            }
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx * dw;
              if (ix < 0 || ix >= W) continue;
              const xo = ((p * H + iy) * W + ix) * C;
              let kk = kb + (ky * kw + kx) * C * 4;
              for (let c = 0; c < C; c++, kk += 4) {
                const v = x[xo + c];
                if (v === 0) continue;
                s0 += v * k[kk]; s1 += v * k[kk + 1]; s2 += v * k[kk + 2]; s3 += v * k[kk + 3];
              }
            }
          }
          // The bias last: the sum over the window does not depend on it (and f0 + j past F is padding).
          out[o + f0] = s0 + (bias ? bias[f0] : 0);
          if (f0 + 1 < F) out[o + f0 + 1] = s1 + (bias ? bias[f0 + 1] : 0);
          if (f0 + 2 < F) out[o + f0 + 2] = s2 + (bias ? bias[f0 + 2] : 0);
          if (f0 + 3 < F) out[o + f0 + 3] = s3 + (bias ? bias[f0 + 3] : 0);
        }
      }
    }
  }
  return out;
}

/** DepthwiseConv2D before its activation: [rows, oh, ow, inC·multiplier]. */
export function depthwiseForward(node: DepthwiseConv2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const g = geometry(node, inShape);
  const m = node.depthMultiplier, c = g.c, k = node.kernel;
  const out = new Float32Array(rows * g.oh * g.ow * g.oc);
  const acc = new Float64Array(g.oc);
  slideWindow(node, g, rows, out, acc, (xo, ko) => {
    for (let ci = 0; ci < c; ci++) {
      const v = x[xo + ci];
      if (v === 0) continue;
      const base = ci * m;
      for (let j = 0; j < m; j++) acc[base + j] += v * k[ko + base + j];
    }
  }, c * m);
  return out;
}
