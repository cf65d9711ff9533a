// Conv2D and DepthwiseConv2D forward, NHWC, written as direct loops ordered for locality: for each
// output pixel, accumulate (f64) over the window's input pixels, skipping zero inputs, with the
// kernel's output channels innermost (contiguous in the [kh, kw, inC, outC] layout).
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
 * output pixel, between resetting `acc` to the bias and storing it: the loop both convs share.
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

/** Conv2D before its activation: [rows, oh, ow, filters]. */
export function conv2dForward(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const g = geometry(node, inShape);
  const f = g.oc, c = g.c, k = node.kernel;
  const out = new Float32Array(rows * g.oh * g.ow * f);
  const acc = new Float64Array(f);
  slideWindow(node, g, rows, out, acc, (xo, ko) => {
    for (let ci = 0; ci < c; ci++) {
      const v = x[xo + ci];
      if (v === 0) continue;
      const kr = ko + ci * f;
      for (let j = 0; j < f; j++) acc[j] += v * k[kr + j];
    }
  }, c * f);
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
