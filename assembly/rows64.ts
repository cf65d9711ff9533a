// Row operations on contiguous f64 rows shared by the Cholesky kernels (axpy-like, SIMD f64x2;
// the lanes are independent columns, so the SIMD and scalar builds give the same bits).
// dst[0..len) −= s · src[0..len)
@inline
export function subtractScaledRow(len: i32, s: f64, src: usize, dst: usize): void {
  if (s == 0) return;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f64x2.splat(s);
    for (; k + 2 <= len; k += 2) {
      const off = <usize>k * 8;
      v128.store(dst + off, f64x2.sub(v128.load(dst + off), f64x2.mul(sv, v128.load(src + off))));
    }
  }
  for (; k < len; k++) {
    const off = <usize>k * 8;
    store<f64>(dst + off, load<f64>(dst + off) - s * load<f64>(src + off));
  }
}

// dst[0..len) −= s0·src0 + s1·src1 + s2·src2 + s3·src3
@inline
export function subtractScaledRows4(
  len: i32, s0: f64, s1: f64, s2: f64, s3: f64,
  src0: usize, src1: usize, src2: usize, src3: usize, dst: usize,
): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const v0 = f64x2.splat(s0), v1 = f64x2.splat(s1), v2 = f64x2.splat(s2), v3 = f64x2.splat(s3);
    for (; k + 2 <= len; k += 2) {
      const off = <usize>k * 8;
      const t = f64x2.add(
        f64x2.add(f64x2.mul(v0, v128.load(src0 + off)), f64x2.mul(v1, v128.load(src1 + off))),
        f64x2.add(f64x2.mul(v2, v128.load(src2 + off)), f64x2.mul(v3, v128.load(src3 + off))));
      v128.store(dst + off, f64x2.sub(v128.load(dst + off), t));
    }
  }
  for (; k < len; k++) {
    const off = <usize>k * 8;
    const t = (s0 * load<f64>(src0 + off) + s1 * load<f64>(src1 + off)) +
      (s2 * load<f64>(src2 + off) + s3 * load<f64>(src3 + off));
    store<f64>(dst + off, load<f64>(dst + off) - t);
  }
}

// x[0..len) *= s
@inline
export function scaleRow(len: i32, s: f64, x: usize): void {
  for (let k = 0; k < len; k++) {
    const off = <usize>k * 8;
    store<f64>(x + off, load<f64>(x + off) * s);
  }
}
