// Element-wise f32 vector kernels for the ADMM loop. SIMD main loop, scalar
// tail. Sums that feed convergence tests accumulate in f64 (f32 products are
// exact in f64, so only the additions round).

/** x[0..n) = value */
export function fill(n: i32, x: usize, value: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(x + <usize>i * 4, v);
  }
  for (; i < n; i++) store<f32>(x + <usize>i * 4, value);
}

/** dst[0..n) = src[0..n) (regions may overlap) */
export function copy(n: i32, src: usize, dst: usize): void {
  if (n > 0) memory.copy(dst, src, <usize>n * 4);
}

/** x ← alpha · x */
export function scale(n: i32, alpha: f32, x: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const p = x + <usize>i * 4;
      v128.store(p, f32x4.mul(v128.load(p), a));
    }
  }
  for (; i < n; i++) {
    const p = x + <usize>i * 4;
    store<f32>(p, load<f32>(p) * alpha);
  }
}

/** y ← alpha · x + y */
export function axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i * 4;
      v128.store(y + off, f32x4.add(v128.load(y + off), f32x4.mul(a, v128.load(x + off))));
    }
  }
  for (; i < n; i++) {
    const off = <usize>i * 4;
    store<f32>(y + off, load<f32>(y + off) + alpha * load<f32>(x + off));
  }
}

/** Σ x[i]² accumulated in f64. */
export function sumSquares64(n: i32, x: usize): f64 {
  return dot64(n, x, x);
}

/** Σ x[i]·y[i] accumulated in f64. */
export function dot64(n: i32, x: usize, y: usize): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i * 4;
      const xv = v128.load(x + off), yv = v128.load(y + off);
      lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(yv)));
      hi = f64x2.add(hi, f64x2.mul(promoteHigh(xv), promoteHigh(yv)));
    }
    const t = f64x2.add(lo, hi);
    s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  }
  for (; i < n; i++) {
    const off = <usize>i * 4;
    s += <f64>load<f32>(x + off) * <f64>load<f32>(y + off);
  }
  return s;
}

/** ‖x − y‖² accumulated in f64 (the difference is taken in f64 too). */
export function diffSumSquares64(n: i32, x: usize, y: usize): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i * 4;
      const xv = v128.load(x + off), yv = v128.load(y + off);
      const dl = f64x2.sub(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(yv));
      const dh = f64x2.sub(promoteHigh(xv), promoteHigh(yv));
      lo = f64x2.add(lo, f64x2.mul(dl, dl));
      hi = f64x2.add(hi, f64x2.mul(dh, dh));
    }
    const t = f64x2.add(lo, hi);
    s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  }
  for (; i < n; i++) {
    const off = <usize>i * 4;
    const d = <f64>load<f32>(x + off) - <f64>load<f32>(y + off);
    s += d * d;
  }
  return s;
}

/** max |x[i]| (0 for n = 0). */
export function maxAbs(n: i32, x: usize): f32 {
  let i = 0;
  let m: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let mv = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(x + <usize>i * 4)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; i < n; i++) m = max(m, abs(load<f32>(x + <usize>i * 4)));
  return m;
}

/** Number of i with |x[i]| > tol. */
export function countAbove(n: i32, x: usize, tol: f32): i32 {
  let i = 0;
  let count = 0;
  if (ASC_FEATURE_SIMD) {
    const t = f32x4.splat(tol);
    let acc = i32x4.splat(0);
    // Comparison lanes are -1 where true; subtracting them counts.
    for (; i + 4 <= n; i += 4) acc = i32x4.sub(acc, f32x4.gt(f32x4.abs(v128.load(x + <usize>i * 4)), t));
    count = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) +
      i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) if (abs(load<f32>(x + <usize>i * 4)) > tol) count++;
  return count;
}

/** out[i] = sign(x[i]) · max(|x[i]| − tau, 0); out may alias x. */
export function softThreshold(n: i32, x: usize, tau: f32, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const t = f32x4.splat(tau);
    const zero = f32x4.splat(0);
    const signBit = i32x4.splat(0x80000000);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i * 4;
      const v = v128.load(x + off);
      const shrunk = f32x4.max(f32x4.sub(f32x4.abs(v), t), zero);
      // Put x's sign back on the (non-negative) shrunk magnitude.
      v128.store(out + off, v128.or(shrunk, v128.and(v, signBit)));
    }
  }
  for (; i < n; i++) {
    const off = <usize>i * 4;
    const v = load<f32>(x + off);
    const shrunk = max(abs(v) - tau, <f32>0);
    store<f32>(out + off, copysign<f32>(shrunk, v));
  }
}

// f64x2 of lanes 2 and 3 of an f32x4.
@inline
function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}
