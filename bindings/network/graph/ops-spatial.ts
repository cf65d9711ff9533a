// Pooling, zero padding and nearest upsampling over NHWC samples.
import { window1D } from "./shapes.ts";
import type { GlobalAvgPool2DNode, Pool2DNode, UpSample2DNode, ZeroPad2DNode } from "./types.ts";

/** Max or average pooling; "same" average pooling divides by the cells inside the input (as TensorFlow). */
export function pool2dForward(node: Pool2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const [h, w, c] = inShape;
  const [oh, ow] = node.shape;
  const [ph, pw] = node.poolSize, [sh, sw] = node.strides;
  const padTop = window1D(h, ph, sh, 1, node.padding).padBefore;
  const padLeft = window1D(w, pw, sw, 1, node.padding).padBefore;
  const isMax = node.op === "maxPool2d";
  const out = new Float32Array(rows * oh * ow * c);
  const acc = new Float64Array(c);
  let o = 0;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(oy * sh - padTop, 0), y1 = Math.min(oy * sh - padTop + ph, h);
      for (let ox = 0; ox < ow; ox++, o += c) {
        const x0 = Math.max(ox * sw - padLeft, 0), x1 = Math.min(ox * sw - padLeft + pw, w);
        acc.fill(isMax ? -Infinity : 0);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const xo = ((p * h + iy) * w + ix) * c;
            if (isMax) for (let k = 0; k < c; k++) acc[k] = Math.max(acc[k], x[xo + k]);
            else for (let k = 0; k < c; k++) acc[k] += x[xo + k];
          }
        }
        const cells = isMax ? 1 : (y1 - y0) * (x1 - x0);
        for (let k = 0; k < c; k++) out[o + k] = acc[k] / cells;
      }
    }
  }
  return out;
}

export function globalAvgPoolForward(_node: GlobalAvgPool2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const [h, w, c] = inShape;
  const out = new Float32Array(rows * c);
  const acc = new Float64Array(c);
  const cells = h * w;
  for (let p = 0; p < rows; p++) {
    acc.fill(0);
    const base = p * cells * c;
    for (let i = 0; i < cells; i++) for (let k = 0; k < c; k++) acc[k] += x[base + i * c + k];
    for (let k = 0; k < c; k++) out[p * c + k] = acc[k] / cells;
  }
  return out;
}

export function zeroPadForward(node: ZeroPad2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const [h, w, c] = inShape;
  const [oh, ow] = node.shape;
  const [top, , left] = node.pads;
  const out = new Float32Array(rows * oh * ow * c);
  for (let p = 0; p < rows; p++) {
    for (let y = 0; y < h; y++) {
      const from = ((p * h + y) * w) * c;
      out.set(x.subarray(from, from + w * c), ((p * oh + y + top) * ow + left) * c);
    }
  }
  return out;
}

export function upSampleForward(node: UpSample2DNode, x: Float32Array, rows: number, inShape: readonly number[]): Float32Array {
  const [h, w, c] = inShape;
  const [oh, ow] = node.shape;
  const [fy, fx] = node.size;
  const out = new Float32Array(rows * oh * ow * c);
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const y = Math.floor(oy / fy);
      for (let ox = 0; ox < ow; ox++) {
        const from = ((p * h + y) * w + Math.floor(ox / fx)) * c;
        out.set(x.subarray(from, from + c), ((p * oh + oy) * ow + ox) * c);
      }
    }
  }
  return out;
}
