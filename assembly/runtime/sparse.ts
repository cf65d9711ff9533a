// Sparse products for the runtime, by rows of the weight matrix: the CSR rows are the layer's
// inputs (a Dense kernel [n][m] row, or a conv tap (ky, kx, c)), each holding its nonzeros as
// (output byte offset, value). For every nonzero input, its row is scattered into the output:
// zero inputs (ReLU outputs, blank pixels) cost one compare, pruned weights nothing.
// CSR arrays: rowPtr i32[rows + 1], offsets i32[nnz] (output index × 4), vals f32[nnz]; the bias is always given
// (zeros when the layer has none).
// Each output is bias + its terms in input order: deterministic.

/** y[o..] += v · row `r` of the CSR (four nonzeros per step). */
// @ts-ignore: decorator
@inline function scatterRow(v: f32, r: i32, rowPtr: usize, offsets: usize, vals: usize, yo: usize): void {
  let k = <usize>load<i32>(rowPtr + <usize>r * 4) * 4;
  const end = <usize>load<i32>(rowPtr + <usize>r * 4, 4) * 4;
  for (; k + 16 <= end; k += 16) {
    const p0 = yo + <usize>load<i32>(offsets + k), p1 = yo + <usize>load<i32>(offsets + k, 4);
    const p2 = yo + <usize>load<i32>(offsets + k, 8), p3 = yo + <usize>load<i32>(offsets + k, 12);
    store<f32>(p0, load<f32>(p0) + v * load<f32>(vals + k));
    store<f32>(p1, load<f32>(p1) + v * load<f32>(vals + k, 4));
    store<f32>(p2, load<f32>(p2) + v * load<f32>(vals + k, 8));
    store<f32>(p3, load<f32>(p3) + v * load<f32>(vals + k, 12));
  }
  for (; k < end; k += 4) {
    const p = yo + <usize>load<i32>(offsets + k);
    store<f32>(p, load<f32>(p) + v * load<f32>(vals + k));
  }
}

/** Copies the bias (`count` floats) to `y`: a loop, as memory.copy calls out of the engine (slow for a few floats). */
// @ts-ignore: decorator
@inline function startWithBias(y: usize, bias: usize, count: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= count; j += 4) v128.store(y + <usize>j * 4, v128.load(bias + <usize>j * 4));
  }
  for (; j < count; j++) store<f32>(y + <usize>j * 4, load<f32>(bias + <usize>j * 4));
}

/** y [rows][m] = x [rows][n] · W + bias, W as the CSR of its n rows. */
export function sparseLayer(
  rows: i32, n: i32, m: i32, x: usize,
  rowPtr: usize, offsets: usize, vals: usize, bias: usize, y: usize,
): void {
  for (let p = 0; p < rows; p++) {
    const xo = x + <usize>p * <usize>n * 4;
    const yo = y + <usize>p * <usize>m * 4;
    startWithBias(yo, bias, m);
    for (let i = 0; i < n; i++) {
      const v = load<f32>(xo + <usize>i * 4);
      if (v == 0) continue;
      scatterRow(v, i, rowPtr, offsets, vals, yo);
    }
  }
}

/**
 * Conv2D or DepthwiseConv2D over NHWC samples with the CSR of the kernel's kh·kw·c tap rows
 * (a depthwise row (tap, c) holds output channels c·multiplier + j). Input-outer, no im2col: every
 * output pixel starts at the bias, then each nonzero input (iy, ix, c) is scattered through the
 * taps of channel c that have nonzeros (tapStart i32[c + 1], taps i32[]: ky << 16 | kx) into the
 * output pixels whose window holds it. Zero inputs and empty taps cost nothing.
 */
export function sparseConv(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  x: usize, rowPtr: usize, offsets: usize, vals: usize, bias: usize, tapStart: usize, taps: usize, y: usize,
): void {
  const pixelBytes = <usize>f * 4;
  for (let p = 0; p < rows; p++) {
    const yp = y + <usize>p * <usize>(oh * ow) * pixelBytes;
    for (let o = 0; o < oh * ow; o++) startWithBias(yp + <usize>o * pixelBytes, bias, f);
    let xp = x + <usize>p * <usize>(h * w * c) * 4;
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        for (let ci = 0; ci < c; ci++, xp += 4) {
          const v = load<f32>(xp);
          if (v == 0) continue;
          const end = load<i32>(tapStart + <usize>ci * 4, 4);
          for (let t = load<i32>(tapStart + <usize>ci * 4); t < end; t++) {
            const tap = load<i32>(taps + <usize>t * 4);
            const ky = tap >> 16, kx = tap & 0xffff;
            // Output (oy, ox) = (iy + padTop − ky·dh, ix + padLeft − kx·dw) / stride when that divides
            // exactly; the division (tens of cycles) only when the stride is not 1.
            let oy = iy + padTop - ky * dh;
            if (oy < 0) continue;
            if (sh != 1) {
              if (oy % sh != 0) continue;
              oy /= sh;
            }
            if (oy >= oh) continue;
            let ox = ix + padLeft - kx * dw;
            if (ox < 0) continue;
            if (sw != 1) {
              if (ox % sw != 0) continue;
              ox /= sw;
            }
            if (ox >= ow) continue;
            scatterRow(v, (ky * kw + kx) * c + ci, rowPtr, offsets, vals, yp + <usize>(oy * ow + ox) * pixelBytes);
          }
        }
      }
    }
  }
}
