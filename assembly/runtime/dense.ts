// Dense SIMD products for the runtime, below the sparse break-even: y = x·W + b over row-major
// samples, W stored [n][m4] (m4 = m rounded up to 4, zero columns past m), bias [m4] (zeros when
// the layer has none). Each output is bias + Σᵢ x[i]·W[i][j] summed in i order: deterministic.
// Without SIMD (the scalar build) each function hands over to its twin in dense-scalar.ts.
import { denseConvScalar, denseLayerScalar } from "./dense-scalar";

/** Stores the first `count` lanes of `v` at `p` (all four when count ≥ 4). */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, count: i32): void {
  if (count >= 4) { v128.store(p, v); return; }
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * y [rows][m] = x [rows][n] · W [n][m4] + bias. Four samples × eight outputs per register block
 * (8 accumulators), then single samples over 32 outputs (GEMV), then 4 outputs at a time.
 */
export function denseLayer(rows: i32, n: i32, m: i32, x: usize, w: usize, bias: usize, y: usize): void {
  if (!ASC_FEATURE_SIMD) {
    denseLayerScalar(rows, n, m, x, w, bias, y);
    return;
  }
  const m4 = (m + 3) & ~3;
  const wStride = <usize>m4 * 4;
  let p = 0;
  for (; p + 4 <= rows; p += 4) {
    const x0 = x + <usize>p * <usize>n * 4;
    const x1 = x0 + <usize>n * 4, x2 = x1 + <usize>n * 4, x3 = x2 + <usize>n * 4;
    const y0 = y + <usize>p * <usize>m * 4;
    const y1 = y0 + <usize>m * 4, y2 = y1 + <usize>m * 4, y3 = y2 + <usize>m * 4;
    let j = 0;
    for (; j < m4; j += 8) {
      const two = j + 4 < m4;
      const b0 = v128.load(bias + <usize>j * 4);
      const b1 = two ? v128.load(bias + <usize>j * 4, 16) : f32x4.splat(0);
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      let wp = w + <usize>j * 4;
      for (let i = 0; i < n; i++, wp += wStride) {
        const w0 = v128.load(wp);
        const w1 = two ? v128.load(wp, 16) : f32x4.splat(0);
        const o = <usize>i * 4;
        const s0 = f32x4.splat(load<f32>(x0 + o)), s1 = f32x4.splat(load<f32>(x1 + o));
        const s2 = f32x4.splat(load<f32>(x2 + o)), s3 = f32x4.splat(load<f32>(x3 + o));
        a00 = f32x4.add(a00, f32x4.mul(s0, w0)); a01 = f32x4.add(a01, f32x4.mul(s0, w1));
        a10 = f32x4.add(a10, f32x4.mul(s1, w0)); a11 = f32x4.add(a11, f32x4.mul(s1, w1));
        a20 = f32x4.add(a20, f32x4.mul(s2, w0)); a21 = f32x4.add(a21, f32x4.mul(s2, w1));
        a30 = f32x4.add(a30, f32x4.mul(s3, w0)); a31 = f32x4.add(a31, f32x4.mul(s3, w1));
      }
      const o = <usize>j * 4;
      storeLanes(y0 + o, a00, m - j); storeLanes(y0 + o + 16, a01, m - j - 4);
      storeLanes(y1 + o, a10, m - j); storeLanes(y1 + o + 16, a11, m - j - 4);
      storeLanes(y2 + o, a20, m - j); storeLanes(y2 + o + 16, a21, m - j - 4);
      storeLanes(y3 + o, a30, m - j); storeLanes(y3 + o + 16, a31, m - j - 4);
    }
  }
  for (; p < rows; p++) {
    gemv(n, m, x + <usize>p * <usize>n * 4, w, bias, y + <usize>p * <usize>m * 4);
  }
}

/** One sample: y [m] = x [n] · W [n][m4] + bias; 32 outputs per pass (8 independent accumulators). */
function gemv(n: i32, m: i32, x: usize, w: usize, bias: usize, y: usize): void {
  const m4 = (m + 3) & ~3;
  const wStride = <usize>m4 * 4;
  let j = 0;
  for (; j + 32 <= m4; j += 32) {
    const bp = bias + <usize>j * 4;
    let a0 = v128.load(bp), a1 = v128.load(bp, 16), a2 = v128.load(bp, 32), a3 = v128.load(bp, 48);
    let a4 = v128.load(bp, 64), a5 = v128.load(bp, 80), a6 = v128.load(bp, 96), a7 = v128.load(bp, 112);
    let wp = w + <usize>j * 4;
    for (let i = 0; i < n; i++, wp += wStride) {
      const s = f32x4.splat(load<f32>(x + <usize>i * 4));
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(wp, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(wp, 48)));
      a4 = f32x4.add(a4, f32x4.mul(s, v128.load(wp, 64))); a5 = f32x4.add(a5, f32x4.mul(s, v128.load(wp, 80)));
      a6 = f32x4.add(a6, f32x4.mul(s, v128.load(wp, 96))); a7 = f32x4.add(a7, f32x4.mul(s, v128.load(wp, 112)));
    }
    const o = y + <usize>j * 4;
    storeLanes(o, a0, m - j); storeLanes(o + 16, a1, m - j - 4); storeLanes(o + 32, a2, m - j - 8);
    storeLanes(o + 48, a3, m - j - 12); storeLanes(o + 64, a4, m - j - 16); storeLanes(o + 80, a5, m - j - 20);
    storeLanes(o + 96, a6, m - j - 24); storeLanes(o + 112, a7, m - j - 28);
  }
  for (; j < m4; j += 4) {
    let a = v128.load(bias + <usize>j * 4);
    let wp = w + <usize>j * 4;
    for (let i = 0; i < n; i++, wp += wStride) {
      a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(x + <usize>i * 4)), v128.load(wp)));
    }
    storeLanes(y + <usize>j * 4, a, m - j);
  }
}

/**
 * Conv2D over NHWC samples with dense weights [kh·kw·c][f4] (f4 = filters rounded up to 4):
 * per output pixel, bias + the window's taps in (ky, kx, c) order, 8, 4, 2 or 1 filter vectors at a time.
 */
export function denseConv(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  x: usize, wt: usize, bias: usize, y: usize,
): void {
  if (!ASC_FEATURE_SIMD) {
    denseConvScalar(rows, h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, padTop, padLeft, x, wt, bias, y);
    return;
  }
  const f4 = (f + 3) & ~3;
  const tapStride = <usize>f4 * 4;
  let yp = y;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, yp += <usize>f * 4) {
        let j = 0;
        for (; j + 32 <= f4; j += 32) {
          const bp = bias + <usize>j * 4;
          let a0 = v128.load(bp), a1 = v128.load(bp, 16), a2 = v128.load(bp, 32), a3 = v128.load(bp, 48);
          let a4 = v128.load(bp, 64), a5 = v128.load(bp, 80), a6 = v128.load(bp, 96), a7 = v128.load(bp, 112);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
              let wp = wt + <usize>((ky * kw + kx) * c) * tapStride + <usize>j * 4;
              for (let ci = 0; ci < c; ci++, wp += tapStride) {
                const s = f32x4.splat(load<f32>(xp + <usize>ci * 4));
                a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
                a2 = f32x4.add(a2, f32x4.mul(s, v128.load(wp, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(wp, 48)));
                a4 = f32x4.add(a4, f32x4.mul(s, v128.load(wp, 64))); a5 = f32x4.add(a5, f32x4.mul(s, v128.load(wp, 80)));
                a6 = f32x4.add(a6, f32x4.mul(s, v128.load(wp, 96))); a7 = f32x4.add(a7, f32x4.mul(s, v128.load(wp, 112)));
              }
            }
          }
          const o = yp + <usize>j * 4;
          storeLanes(o, a0, f - j); storeLanes(o + 16, a1, f - j - 4); storeLanes(o + 32, a2, f - j - 8);
          storeLanes(o + 48, a3, f - j - 12); storeLanes(o + 64, a4, f - j - 16); storeLanes(o + 80, a5, f - j - 20);
          storeLanes(o + 96, a6, f - j - 24); storeLanes(o + 112, a7, f - j - 28);
        }
        for (; j + 16 <= f4; j += 16) {
          const bp = bias + <usize>j * 4;
          let a0 = v128.load(bp), a1 = v128.load(bp, 16), a2 = v128.load(bp, 32), a3 = v128.load(bp, 48);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
              let wp = wt + <usize>((ky * kw + kx) * c) * tapStride + <usize>j * 4;
              for (let ci = 0; ci < c; ci++, wp += tapStride) {
                const s = f32x4.splat(load<f32>(xp + <usize>ci * 4));
                a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
                a2 = f32x4.add(a2, f32x4.mul(s, v128.load(wp, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(wp, 48)));
              }
            }
          }
          const o = yp + <usize>j * 4;
          storeLanes(o, a0, f - j); storeLanes(o + 16, a1, f - j - 4); storeLanes(o + 32, a2, f - j - 8); storeLanes(o + 48, a3, f - j - 12);
        }
        for (; j + 8 <= f4; j += 8) {
          let a0 = v128.load(bias + <usize>j * 4), a1 = v128.load(bias + <usize>j * 4, 16);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
              let wp = wt + <usize>((ky * kw + kx) * c) * tapStride + <usize>j * 4;
              for (let ci = 0; ci < c; ci++, wp += tapStride) {
                const s = f32x4.splat(load<f32>(xp + <usize>ci * 4));
                a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
              }
            }
          }
          storeLanes(yp + <usize>j * 4, a0, f - j); storeLanes(yp + <usize>j * 4 + 16, a1, f - j - 4);
        }
        for (; j < f4; j += 4) {
          let a = v128.load(bias + <usize>j * 4);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - padLeft + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
              let wp = wt + <usize>((ky * kw + kx) * c) * tapStride + <usize>j * 4;
              for (let ci = 0; ci < c; ci++, wp += tapStride) {
                a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(xp + <usize>ci * 4)), v128.load(wp)));
              }
            }
          }
          storeLanes(yp + <usize>j * 4, a, f - j);
        }
      }
    }
  }
}
