// The dense products of dense.ts for the build without SIMD (net-trim-runtime-scalar.wasm): the
// same arithmetic one float at a time. Each output is bias + Σᵢ x[i]·W[i][j] in i order, rounded
// after every multiply and add as the SIMD lanes are, so both builds give the same bits.
// Layouts as in dense.ts: W [n][m4], bias [m4] (m4 = m rounded up to 4).

/** y [m] = bias, then y += x[i] · row i of W for i in order (rows read contiguously). */
// @ts-ignore: decorator
@inline function accumulateRows(count: i32, m: i32, x: usize, xStride: usize, w: usize, wStride: usize, y: usize): void {
  for (let i = 0; i < count; i++) {
    const s = load<f32>(x + <usize>i * xStride);
    const row = w + <usize>i * wStride;
    for (let j = 0; j < m; j++) {
      const p = y + <usize>j * 4;
      store<f32>(p, load<f32>(p) + s * load<f32>(row + <usize>j * 4));
    }
  }
}

/** Copies the bias (`count` floats) to `y`. */
// @ts-ignore: decorator
@inline function startWithBias(y: usize, bias: usize, count: i32): void {
  for (let j = 0; j < count; j++) store<f32>(y + <usize>j * 4, load<f32>(bias + <usize>j * 4));
}

/** y [rows][m] = x [rows][n] · W [n][m4] + bias. */
export function denseLayerScalar(rows: i32, n: i32, m: i32, x: usize, w: usize, bias: usize, y: usize): void {
  const wStride = <usize>((m + 3) & ~3) * 4;
  for (let p = 0; p < rows; p++) {
    const yp = y + <usize>p * <usize>m * 4;
    startWithBias(yp, bias, m);
    accumulateRows(n, m, x + <usize>p * <usize>n * 4, 4, w, wStride, yp);
  }
}

/** Conv2D over NHWC samples, weights [kh·kw·c][f4]: per output pixel, bias + the window's taps in (ky, kx, c) order. */
export function denseConvScalar(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  x: usize, wt: usize, bias: usize, y: usize,
): void {
  const tapStride = <usize>((f + 3) & ~3) * 4;
  let yp = y;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, yp += <usize>f * 4) {
        startWithBias(yp, bias, f);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
            accumulateRows(c, f, xp, 4, wt + <usize>((ky * kw + kx) * c) * tapStride, tapStride, yp);
          }
        }
      }
    }
  }
}
