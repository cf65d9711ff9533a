// Sparse products for the runtime, by rows of the weight matrix: the CSR rows are the layer's
// inputs (a Dense kernel [n][m] row, or a conv tap (ky, kx, c)), each holding its nonzeros as
// (output byte offset, value). For every nonzero input, its row is scattered into the output:
// zero inputs (ReLU outputs, blank pixels) cost one compare, pruned weights nothing.
// CSR arrays: rowPtr i32[rows + 1], offsets i32[nnz] (output index × 4), vals f32[nnz].
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

/** Sets `count` floats at `y` to the bias (or zeros when bias is 0). */
// @ts-ignore: decorator
@inline function startWithBias(y: usize, bias: usize, count: i32): void {
  if (bias != 0) memory.copy(y, bias, <usize>count * 4);
  else memory.fill(y, 0, <usize>count * 4);
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
 * (a depthwise row (tap, c) holds output channels c·multiplier + j): per output pixel, the
 * window's nonzero inputs scattered in (ky, kx, c) order. No im2col copy.
 */
export function sparseConv(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  x: usize, rowPtr: usize, offsets: usize, vals: usize, bias: usize, y: usize,
): void {
  let yo = y;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, yo += <usize>f * 4) {
        startWithBias(yo, bias, f);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
            const tap = (ky * kw + kx) * c;
            for (let ci = 0; ci < c; ci++) {
              const v = load<f32>(xp + <usize>ci * 4);
              if (v == 0) continue;
              scatterRow(v, tap + ci, rowPtr, offsets, vals, yo);
            }
          }
        }
      }
    }
  }
}
