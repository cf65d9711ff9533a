// f32 ↔ f64 conversions: matrices are stored in f32, the Cholesky factor is
// computed in f64.

/** dst[0..n) (f64) = src[0..n) (f32) */
export function f32ToF64(n: i32, src: usize, dst: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(src + <usize>i * 4);
      const d = dst + <usize>i * 8;
      v128.store(d, f64x2.promote_low_f32x4(v));
      v128.store(d, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)), 16);
    }
  }
  for (; i < n; i++) store<f64>(dst + <usize>i * 8, <f64>load<f32>(src + <usize>i * 4));
}

/** dst[0..n) (f32) = src[0..n) (f64), rounded to nearest */
export function f64ToF32(n: i32, src: usize, dst: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const s = src + <usize>i * 8;
      const lo = f32x4.demote_f64x2_zero(v128.load(s));
      const hi = f32x4.demote_f64x2_zero(v128.load(s, 16));
      v128.store(dst + <usize>i * 4, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
    }
  }
  for (; i < n; i++) store<f32>(dst + <usize>i * 4, <f32>load<f64>(src + <usize>i * 8));
}
