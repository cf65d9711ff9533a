// The elementwise passes of one ADMM iteration (assembly/admm.ts), on an element range
// [i0, i1) of row-major buffers: f32x4 in the SIMD build, plain f32 in the scalar build.
//
// Both builds give the same bits. Elementwise results are exact per element either way (no
// fused multiply-add; min written as `t < v ? t : v`, which is f32x4.pmin(v, t)). Every f64
// sum is associated the same way in both builds: four lane sums over the groups of 4 from i0,
// combined as (lane0 + lane2) + (lane1 + lane3), then the < 4 tail elements added in order.
// Sums are written to `sums` (f64, in the order each pass documents).

/** (lane0 + lane2) + (lane1 + lane3) of the f64x2 pairs lo = (lane0, lane1), hi = (lane2, lane3). */
@inline
function laneTotal(lo: v128, hi: v128): f64 {
  const v = f64x2.add(lo, hi);
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** The scalar build's laneTotal. */
@inline
function laneTotal4(l0: f64, l1: f64, l2: f64, l3: f64): f64 {
  return (l0 + l2) + (l1 + l3);
}

/** Lanes 0, 1 of an f32x4 as f64x2. */
@inline
function lowF64(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

/** Lanes 2, 3 of an f32x4 as f64x2. */
@inline
function highF64(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3));
}

/** All-ones lanes where the 4 mask bytes at p are nonzero (all ones everywhere when `all`). */
@inline
function laneMask(p: usize, all: bool): v128 {
  if (all) return i32x4.splat(-1);
  const bytes = v128.load32_zero(p);
  return v128.not(i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), i32x4.splat(0)));
}

/**
 * Σ (Z − U1 − Y)² in f64 over the elements on Ω (all of them when `linear`): the squared
 * distance the ε-ball projection scales by. sums[0] = the sum.
 */
export function ballPass(i0: usize, i1: usize, linear: bool, z: usize, u1: usize, y: usize, mask: usize, sums: usize): void {
  let i = i0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      // Off Ω the inputs are zeroed: the difference is 0 and adds +0, as skipping it does.
      const m = laneMask(mask + i, linear);
      const zv = v128.and(v128.load(z + o), m);
      const uv = v128.and(v128.load(u1 + o), m);
      const yv = v128.and(v128.load(y + o), m);
      const dlo = f64x2.sub(f64x2.sub(lowF64(zv), lowF64(uv)), lowF64(yv));
      const dhi = f64x2.sub(f64x2.sub(highF64(zv), highF64(uv)), highF64(yv));
      lo = f64x2.add(lo, f64x2.mul(dlo, dlo));
      hi = f64x2.add(hi, f64x2.mul(dhi, dhi));
    }
    total = laneTotal(lo, hi);
  } else {
    let l0: f64 = 0, l1: f64 = 0, l2: f64 = 0, l3: f64 = 0;
    for (; i + 4 <= i1; i += 4) {
      l0 += ballTerm(i, linear, z, u1, y, mask);
      l1 += ballTerm(i + 1, linear, z, u1, y, mask);
      l2 += ballTerm(i + 2, linear, z, u1, y, mask);
      l3 += ballTerm(i + 3, linear, z, u1, y, mask);
    }
    total = laneTotal4(l0, l1, l2, l3);
  }
  for (; i < i1; i++) total += ballTerm(i, linear, z, u1, y, mask);
  store<f64>(sums, total);
}

@inline
function ballTerm(i: usize, linear: bool, z: usize, u1: usize, y: usize, mask: usize): f64 {
  if (!linear && load<u8>(mask + i) == 0) return 0;
  const o = i << 2;
  const d = <f64>load<f32>(z + o) - <f64>load<f32>(u1 + o) - <f64>load<f32>(y + o);
  return d * d;
}

/**
 * W1 = Π_K(Z − U1): on Ω (everywhere when `linear`) Y + g·(Z − U1 − Y), off Ω min(Z − U1, V)
 * (V = 0 without `hasV`); B = a·W1 + a1·Z + U1. With `stats`, sums[0] = Σ W1² (f64).
 */
export function outputPass(
  i0: usize, i1: usize, linear: bool, hasV: bool, g: f32, a: f32, a1: f32,
  z: usize, u1: usize, y: usize, v: usize, mask: usize, b: usize, stats: bool, sums: usize,
): void {
  let i = i0;
  let w1sq: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const gv = f32x4.splat(g), av = f32x4.splat(a), a1v = f32x4.splat(a1);
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      const zv = v128.load(z + o);
      const uv = v128.load(u1 + o);
      const yv = v128.load(y + o);
      const t = f32x4.sub(zv, uv);
      const onBall = f32x4.add(yv, f32x4.mul(gv, f32x4.sub(t, yv)));
      const cap = hasV ? v128.load(v + o) : f32x4.splat(0);
      const below = f32x4.pmin(cap, t); // t < cap ? t : cap
      const w1 = v128.bitselect(onBall, below, laneMask(mask + i, linear));
      if (stats) {
        const l = lowF64(w1), h = highF64(w1);
        lo = f64x2.add(lo, f64x2.mul(l, l));
        hi = f64x2.add(hi, f64x2.mul(h, h));
      }
      v128.store(b + o, f32x4.add(f32x4.add(f32x4.mul(av, w1), f32x4.mul(a1v, zv)), uv));
    }
    w1sq = laneTotal(lo, hi);
  } else {
    let l0: f64 = 0, l1: f64 = 0, l2: f64 = 0, l3: f64 = 0;
    for (; i + 4 <= i1; i += 4) {
      const w0 = outputTerm(i, linear, hasV, g, a, a1, z, u1, y, v, mask, b);
      const w1 = outputTerm(i + 1, linear, hasV, g, a, a1, z, u1, y, v, mask, b);
      const w2 = outputTerm(i + 2, linear, hasV, g, a, a1, z, u1, y, v, mask, b);
      const w3 = outputTerm(i + 3, linear, hasV, g, a, a1, z, u1, y, v, mask, b);
      if (stats) {
        l0 += <f64>w0 * <f64>w0; l1 += <f64>w1 * <f64>w1;
        l2 += <f64>w2 * <f64>w2; l3 += <f64>w3 * <f64>w3;
      }
    }
    w1sq = laneTotal4(l0, l1, l2, l3);
  }
  for (; i < i1; i++) {
    const w1 = outputTerm(i, linear, hasV, g, a, a1, z, u1, y, v, mask, b);
    if (stats) w1sq += <f64>w1 * <f64>w1;
  }
  store<f64>(sums, stats ? w1sq : 0);
}

/** One element of outputPass: stores B, returns W1. */
@inline
function outputTerm(
  i: usize, linear: bool, hasV: bool, g: f32, a: f32, a1: f32,
  z: usize, u1: usize, y: usize, v: usize, mask: usize, b: usize,
): f32 {
  const o = i << 2;
  const zi = load<f32>(z + o);
  const u = load<f32>(u1 + o);
  const t = zi - u;
  let w1: f32;
  if (linear || load<u8>(mask + i) != 0) {
    const yi = load<f32>(y + o);
    w1 = yi + g * (t - yi);
  } else {
    const cap: f32 = hasV ? load<f32>(v + o) : 0;
    w1 = t < cap ? t : cap;
  }
  store<f32>(b + o, a * w1 + a1 * zi + u);
  return w1;
}

/**
 * W2 = S_τ(W3 − U2) (soft threshold), E = a·W2 + a1·W3 + U2. With `c` (nonzero: an N̄×M f32
 * matrix of ℓ1 weights, reweighted ℓ1) the threshold of entry i is τ·c[i], an exact f32 product
 * in both builds.
 */
export function weightPass(i0: usize, i1: usize, tau: f32, a: f32, a1: f32, w3: usize, u2: usize, w2: usize, e: usize, c: usize): void {
  let i = i0;
  const weighted = c != 0;
  if (ASC_FEATURE_SIMD) {
    const tauv = f32x4.splat(tau), av = f32x4.splat(a), a1v = f32x4.splat(a1);
    const sign = i32x4.splat(0x80000000);
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      const tv = weighted ? f32x4.mul(tauv, v128.load(c + o)) : tauv;
      const wv = v128.load(w3 + o);
      const uv = v128.load(u2 + o);
      const t = f32x4.sub(wv, uv);
      const mag = f32x4.sub(f32x4.abs(t), tv);
      // mag > 0 (so mag's sign bit is clear): mag with t's sign; otherwise +0.
      const s = v128.and(v128.or(mag, v128.and(t, sign)), f32x4.gt(mag, f32x4.splat(0)));
      v128.store(w2 + o, s);
      v128.store(e + o, f32x4.add(f32x4.add(f32x4.mul(av, s), f32x4.mul(a1v, wv)), uv));
    }
  }
  for (; i < i1; i++) {
    const o = i << 2;
    const wi = load<f32>(w3 + o);
    const u = load<f32>(u2 + o);
    const t = wi - u;
    const mag = abs<f32>(t) - (weighted ? tau * load<f32>(c + o) : tau);
    const s: f32 = mag > 0 ? (t > 0 ? mag : -mag) : 0;
    store<f32>(w2 + o, s);
    store<f32>(e + o, a * s + a1 * wi + u);
  }
}

/** d ← d + e. */
export function addPass(i0: usize, i1: usize, e: usize, d: usize): void {
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(e + o)));
    }
  }
  for (; i < i1; i++) {
    const o = i << 2;
    store<f32>(d + o, load<f32>(d + o) + load<f32>(e + o));
  }
}

/**
 * U2 = E − W3⁺. With `stats`, from W2, W3 (the old iterate) and W3⁺ first:
 * sums[0..5) = ‖W2 − W3⁺‖², ‖W3⁺ − W3‖², ‖W2‖², ‖W3⁺‖², ‖U2‖² (f64).
 */
export function dualWeightPass(
  i0: usize, i1: usize, e: usize, w3Next: usize, w3: usize, w2: usize, u2: usize, stats: bool, sums: usize,
): void {
  if (stats) weightStats(i0, i1, e, w3Next, w3, w2, sums);
  subtractPass(i0, i1, e, w3Next, u2);
}

/**
 * U1 = B − Z⁺. With `stats`, from B, U1 (the old one), Z and Z⁺ first, W1 recovered from
 * B = α·W1 + (1−α)·Z + U1 as (B − U1 − oneMinusAlpha·Z)·invAlpha (f64):
 * sums[0..4) = ‖W1 − Z⁺‖², ‖Z⁺ − Z‖², ‖Z⁺‖², ‖U1⁺‖² (f64).
 */
export function dualOutputPass(
  i0: usize, i1: usize, oneMinusAlpha: f64, invAlpha: f64, b: usize, zNext: usize, z: usize, u1: usize, stats: bool, sums: usize,
): void {
  if (stats) outputStats(i0, i1, oneMinusAlpha, invAlpha, b, zNext, z, u1, sums);
  subtractPass(i0, i1, b, zNext, u1);
}

/** out ← x − y (out may be y). */
export function subtractPass(i0: usize, i1: usize, x: usize, y: usize, out: usize): void {
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      v128.store(out + o, f32x4.sub(v128.load(x + o), v128.load(y + o)));
    }
  }
  for (; i < i1; i++) {
    const o = i << 2;
    store<f32>(out + o, load<f32>(x + o) - load<f32>(y + o));
  }
}

function weightStats(i0: usize, i1: usize, e: usize, w3Next: usize, w3: usize, w2: usize, sums: usize): void {
  if (ASC_FEATURE_SIMD) {
    const zero = f64x2.splat(0);
    let r0 = zero, r1 = zero, s0 = zero, s1 = zero, a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero;
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      const nv = v128.load(w3Next + o), ov = v128.load(w3 + o), sv = v128.load(w2 + o);
      const uv = f32x4.sub(v128.load(e + o), nv);
      let n = lowF64(nv), p = lowF64(ov), s = lowF64(sv), u = lowF64(uv);
      let d = f64x2.sub(s, n), q = f64x2.sub(n, p);
      r0 = f64x2.add(r0, f64x2.mul(d, d)); s0 = f64x2.add(s0, f64x2.mul(q, q));
      a0 = f64x2.add(a0, f64x2.mul(s, s)); b0 = f64x2.add(b0, f64x2.mul(n, n)); c0 = f64x2.add(c0, f64x2.mul(u, u));
      n = highF64(nv); p = highF64(ov); s = highF64(sv); u = highF64(uv);
      d = f64x2.sub(s, n); q = f64x2.sub(n, p);
      r1 = f64x2.add(r1, f64x2.mul(d, d)); s1 = f64x2.add(s1, f64x2.mul(q, q));
      a1 = f64x2.add(a1, f64x2.mul(s, s)); b1 = f64x2.add(b1, f64x2.mul(n, n)); c1 = f64x2.add(c1, f64x2.mul(u, u));
    }
    let tr = laneTotal(r0, r1), ts = laneTotal(s0, s1), ta = laneTotal(a0, a1), tb = laneTotal(b0, b1), tc = laneTotal(c0, c1);
    for (; i < i1; i++) {
      tr += weightStatTerm(0, i, e, w3Next, w3, w2); ts += weightStatTerm(1, i, e, w3Next, w3, w2);
      ta += weightStatTerm(2, i, e, w3Next, w3, w2); tb += weightStatTerm(3, i, e, w3Next, w3, w2);
      tc += weightStatTerm(4, i, e, w3Next, w3, w2);
    }
    store<f64>(sums, tr); store<f64>(sums, ts, 8); store<f64>(sums, ta, 16); store<f64>(sums, tb, 24); store<f64>(sums, tc, 32);
  } else {
    // One pass per sum: slower, but the scalar build's sums must be associated as the SIMD build's.
    for (let k = 0; k < 5; k++) {
      let l0: f64 = 0, l1: f64 = 0, l2: f64 = 0, l3: f64 = 0;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        l0 += weightStatTerm(k, i, e, w3Next, w3, w2); l1 += weightStatTerm(k, i + 1, e, w3Next, w3, w2);
        l2 += weightStatTerm(k, i + 2, e, w3Next, w3, w2); l3 += weightStatTerm(k, i + 3, e, w3Next, w3, w2);
      }
      let t = laneTotal4(l0, l1, l2, l3);
      for (; i < i1; i++) t += weightStatTerm(k, i, e, w3Next, w3, w2);
      store<f64>(sums + <usize>k * 8, t);
    }
  }
}

/** Term k of weightStats at element i. */
@inline
function weightStatTerm(k: i32, i: usize, e: usize, w3Next: usize, w3: usize, w2: usize): f64 {
  const o = i << 2;
  const nf = load<f32>(w3Next + o);
  const n = <f64>nf;
  switch (k) {
    case 0: { const d = <f64>load<f32>(w2 + o) - n; return d * d; }
    case 1: { const d = n - <f64>load<f32>(w3 + o); return d * d; }
    case 2: { const s = <f64>load<f32>(w2 + o); return s * s; }
    case 3: return n * n;
    default: { const u = <f64>(load<f32>(e + o) - nf); return u * u; }
  }
}

function outputStats(i0: usize, i1: usize, c: f64, inva: f64, b: usize, zNext: usize, z: usize, u1: usize, sums: usize): void {
  if (ASC_FEATURE_SIMD) {
    const zero = f64x2.splat(0);
    const cv = f64x2.splat(c), iv = f64x2.splat(inva);
    let r0 = zero, r1 = zero, s0 = zero, s1 = zero, a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const o = i << 2;
      const bv = v128.load(b + o), nv = v128.load(zNext + o), ov = v128.load(z + o), uv = v128.load(u1 + o);
      let bb = lowF64(bv), n = lowF64(nv), p = lowF64(ov), u = lowF64(uv);
      let w = f64x2.mul(f64x2.sub(f64x2.sub(bb, u), f64x2.mul(cv, p)), iv);
      let d = f64x2.sub(w, n), q = f64x2.sub(n, p), un = f64x2.sub(bb, n);
      r0 = f64x2.add(r0, f64x2.mul(d, d)); s0 = f64x2.add(s0, f64x2.mul(q, q));
      a0 = f64x2.add(a0, f64x2.mul(n, n)); b0 = f64x2.add(b0, f64x2.mul(un, un));
      bb = highF64(bv); n = highF64(nv); p = highF64(ov); u = highF64(uv);
      w = f64x2.mul(f64x2.sub(f64x2.sub(bb, u), f64x2.mul(cv, p)), iv);
      d = f64x2.sub(w, n); q = f64x2.sub(n, p); un = f64x2.sub(bb, n);
      r1 = f64x2.add(r1, f64x2.mul(d, d)); s1 = f64x2.add(s1, f64x2.mul(q, q));
      a1 = f64x2.add(a1, f64x2.mul(n, n)); b1 = f64x2.add(b1, f64x2.mul(un, un));
    }
    let tr = laneTotal(r0, r1), ts = laneTotal(s0, s1), ta = laneTotal(a0, a1), tb = laneTotal(b0, b1);
    for (; i < i1; i++) {
      tr += outputStatTerm(0, i, c, inva, b, zNext, z, u1); ts += outputStatTerm(1, i, c, inva, b, zNext, z, u1);
      ta += outputStatTerm(2, i, c, inva, b, zNext, z, u1); tb += outputStatTerm(3, i, c, inva, b, zNext, z, u1);
    }
    store<f64>(sums, tr); store<f64>(sums, ts, 8); store<f64>(sums, ta, 16); store<f64>(sums, tb, 24);
  } else {
    for (let k = 0; k < 4; k++) {
      let l0: f64 = 0, l1: f64 = 0, l2: f64 = 0, l3: f64 = 0;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        l0 += outputStatTerm(k, i, c, inva, b, zNext, z, u1); l1 += outputStatTerm(k, i + 1, c, inva, b, zNext, z, u1);
        l2 += outputStatTerm(k, i + 2, c, inva, b, zNext, z, u1); l3 += outputStatTerm(k, i + 3, c, inva, b, zNext, z, u1);
      }
      let t = laneTotal4(l0, l1, l2, l3);
      for (; i < i1; i++) t += outputStatTerm(k, i, c, inva, b, zNext, z, u1);
      store<f64>(sums + <usize>k * 8, t);
    }
  }
}

/** Term k of outputStats at element i. */
@inline
function outputStatTerm(k: i32, i: usize, c: f64, inva: f64, b: usize, zNext: usize, z: usize, u1: usize): f64 {
  const o = i << 2;
  const bb = <f64>load<f32>(b + o);
  const n = <f64>load<f32>(zNext + o);
  switch (k) {
    case 0: {
      const w = (bb - <f64>load<f32>(u1 + o) - c * <f64>load<f32>(z + o)) * inva;
      return (w - n) * (w - n);
    }
    case 1: { const q = n - <f64>load<f32>(z + o); return q * q; }
    case 2: return n * n;
    default: { const un = bb - n; return un * un; }
  }
}
