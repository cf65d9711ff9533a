import {
  addPass, ballPass, dualOutputPass, dualWeightPass, outputPass, weightPass,
} from "../../assembly/admm-passes";
import { allocBytes, allocF32, allocF64, fillRandom, getF32, getF64, reseed, setF32, SIZES } from "./helpers";

// The elementwise passes of the ADMM iteration against plain per-element loops written here from
// the formulas. Element results must match exactly (f32, no fused multiply-add); every f64 sum
// must equal, bit for bit, the documented association (4 lane sums from i0, combined as
// (l0 + l2) + (l1 + l3), then the tail in order), and a plain running sum to 1e-12. The specs
// run on the SIMD and the scalar build, so both builds give the same bits. Ranges start at
// i0 = 0 and at i0 = 3 (an unaligned start), with lengths 0, 1, 2, 3, 5, 17.

const GUARD: f32 = -777.0;
const STARTS: i32[] = [0, 3];

/** Sum of term(i) over [i0, i1) in the documented lane order. */
class LaneSum {
  lanes: f64[] = [0, 0, 0, 0];
  plain: f64 = 0;
  constructor(public i0: i32, public i1: i32) {}
  /** Adds a term of the groups of 4 (tail terms go to total()); every term to the plain sum. */
  add(i: i32, term: f64): void {
    const full = this.i0 + ((this.i1 - this.i0) >> 2) * 4;
    if (i < full) this.lanes[(i - this.i0) & 3] += term;
    this.plain += term;
  }
  /** The expected bits: lanes, then the tail terms in order. */
  total(tailTerms: f64[]): f64 {
    let t = (this.lanes[0] + this.lanes[2]) + (this.lanes[1] + this.lanes[3]);
    for (let k = 0; k < tailTerms.length; k++) t += tailTerms[k];
    return t;
  }
}

/** n + 1 f32: random (zero with probability 1 − density), then a guard. */
function buf(n: i32, density: f64 = 1.0): usize {
  const p = allocF32(n + 1);
  fillRandom(p, n, density);
  // Magnitudes from 2⁻¹² to 2¹², so that f64 sums round and their association shows.
  for (let i = 0; i < n; i++) setF32(p, i, getF32(p, i) * <f32>Math.pow(2, <f64>((i * 7) % 25 - 12)));
  setF32(p, n, GUARD);
  return p;
}

function maskOf(y: usize, n: i32): usize {
  const m = allocBytes(n + 4);
  for (let i = 0; i < n; i++) store<u8>(m + <usize>i, getF32(y, i) > 0 ? 1 : 0);
  return m;
}

/** The expected f64 sum of `terms` over [i0, i1) (lane order) and a check against the plain sum. */
function expectSum(got: f64, terms: f64[], i0: i32, i1: i32): void {
  const s = new LaneSum(i0, i1);
  const full = i0 + ((i1 - i0) >> 2) * 4;
  const tail: f64[] = [];
  for (let i = i0; i < i1; i++) {
    s.add(i, terms[i]);
    if (i >= full) tail.push(terms[i]);
  }
  expect(got).toBe(s.total(tail));
  expect(Math.abs(got - s.plain)).toBeLessThanOrEqual(1e-12 * (Math.abs(s.plain) + 1e-30));
}

describe("ADMM elementwise passes", () => {
  test("ballPass: Σ (Z − U1 − Y)² on Ω (everything when linear)", () => {
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) for (let lin = 0; lin < 2; lin++) {
      reseed(<u32>(11 + t * 7 + si * 3 + lin));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const z = buf(n), u = buf(n), y = buf(n, 0.5), sums = allocF64(1);
      const mask = maskOf(y, n);
      ballPass(<usize>i0, <usize>n, lin == 1, z, u, y, mask, sums);
      const terms: f64[] = [];
      for (let i = 0; i < n; i++) {
        const d = <f64>getF32(z, i) - <f64>getF32(u, i) - <f64>getF32(y, i);
        terms.push(lin == 1 || getF32(y, i) > 0 ? d * d : 0);
      }
      expectSum(getF64(sums, 0), terms, i0, n);
    }
  });

  test("outputPass: W1 = Π_K(Z − U1), B = a·W1 + a1·Z + U1, Σ W1²", () => {
    const g: f32 = 0.625, a: f32 = 1.6, a1: f32 = -0.6;
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) for (let kind = 0; kind < 3; kind++) {
      reseed(<u32>(31 + t * 5 + si * 13 + kind));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const linear = kind == 2, hasV = kind == 1;
      const z = buf(n), u = buf(n), y = buf(n, 0.5), v = buf(n), b = buf(n), sums = allocF64(1);
      const mask = maskOf(y, n);
      outputPass(<usize>i0, <usize>n, linear, hasV, g, a, a1, z, u, y, v, mask, b, true, sums);
      const terms: f64[] = [];
      let ok = getF32(b, n) == GUARD;
      for (let i = 0; i < n; i++) {
        const tt = getF32(z, i) - getF32(u, i);
        const yi = getF32(y, i);
        const cap: f32 = hasV ? getF32(v, i) : 0;
        const w1: f32 = linear || yi > 0 ? yi + g * (tt - yi) : (tt < cap ? tt : cap);
        terms.push(<f64>w1 * <f64>w1);
        if (i >= i0) ok = ok && getF32(b, i) == a * w1 + a1 * getF32(z, i) + getF32(u, i);
      }
      expect(ok).toBe(true);
      expectSum(getF64(sums, 0), terms, i0, n);
    }
  });

  test("outputPass takes min(Z − U1, V) as `t < v ? t : v`: V where Z − U1 is NaN", () => {
    const z = allocF32(5), u = allocF32(5), y = allocF32(5), v = allocF32(5), b = allocF32(5), sums = allocF64(1);
    const mask = allocBytes(8);
    for (let i = 0; i < 5; i++) { setF32(z, i, NaN); setF32(v, i, <f32>(i + 1)); }
    outputPass(0, 5, false, true, 1, 1, 0, z, u, y, v, mask, b, true, sums);
    // Off Ω W1 = V: Σ W1² = (1 + 9) + (4 + 16) + 25 in lane order.
    expect(getF64(sums, 0)).toBe(55.0);
  });

  test("weightPass: W2 = S_τ(W3 − U2), E = a·W2 + a1·W3 + U2; addPass: D += E", () => {
    const tau: f32 = 0.3, a: f32 = 1.6, a1: f32 = -0.6;
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) {
      reseed(<u32>(71 + t + si * 17));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const w3 = buf(n), u = buf(n), w2 = buf(n), e = buf(n), d = buf(n), d0 = allocF32(n + 1);
      memory.copy(d0, d, <usize>(n + 1) * 4);
      weightPass(<usize>i0, <usize>n, tau, a, a1, w3, u, w2, e, 0);
      addPass(<usize>i0, <usize>n, e, d);
      let ok = getF32(w2, n) == GUARD && getF32(e, n) == GUARD && getF32(d, n) == GUARD;
      for (let i = i0; i < n; i++) {
        const tt = getF32(w3, i) - getF32(u, i);
        const mag = Mathf.abs(tt) - tau;
        const s: f32 = mag > 0 ? (tt > 0 ? mag : -mag) : 0;
        const ei = a * s + a1 * getF32(w3, i) + getF32(u, i);
        ok = ok && getF32(w2, i) == s && getF32(e, i) == ei && getF32(d, i) == getF32(d0, i) + ei;
      }
      expect(ok).toBe(true);
    }
  });

  test("weightPass with ℓ1 weights c: W2 = S_{τ·c}(W3 − U2) per entry (τ·c an f32 product)", () => {
    const tau: f32 = 0.3, a: f32 = 1.6, a1: f32 = -0.6;
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) {
      reseed(<u32>(83 + t + si * 13));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const w3 = buf(n), u = buf(n), w2 = buf(n), e = buf(n), c = allocF32(n + 1);
      // Weights from 2⁻⁶ to 2⁶ (and one 0: no shrinkage), so entries on both sides of the threshold.
      for (let i = 0; i < n; i++) setF32(c, i, i == 1 ? 0 : <f32>Math.pow(2, <f64>((i * 5) % 13 - 6)));
      weightPass(<usize>i0, <usize>n, tau, a, a1, w3, u, w2, e, c);
      let ok = getF32(w2, n) == GUARD && getF32(e, n) == GUARD;
      for (let i = i0; i < n; i++) {
        const tt = getF32(w3, i) - getF32(u, i);
        const th: f32 = tau * getF32(c, i);
        const mag = Mathf.abs(tt) - th;
        const s: f32 = mag > 0 ? (tt > 0 ? mag : -mag) : 0;
        ok = ok && getF32(w2, i) == s && getF32(e, i) == a * s + a1 * getF32(w3, i) + getF32(u, i);
      }
      expect(ok).toBe(true);
    }
  });

  test("dualWeightPass: U2 = E − W3⁺ and its five sums", () => {
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) {
      reseed(<u32>(101 + t + si * 19));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const e = buf(n), w3n = buf(n), w3 = buf(n), w2 = buf(n, 0.5), u2 = buf(n), sums = allocF64(5);
      dualWeightPass(<usize>i0, <usize>n, e, w3n, w3, w2, u2, true, sums);
      const terms: f64[][] = [[], [], [], [], []];
      let ok = getF32(u2, n) == GUARD;
      for (let i = 0; i < n; i++) {
        const nn = <f64>getF32(w3n, i), s = <f64>getF32(w2, i);
        const uf = getF32(e, i) - getF32(w3n, i);
        if (i >= i0) ok = ok && getF32(u2, i) == uf;
        terms[0].push((s - nn) * (s - nn));
        terms[1].push((nn - <f64>getF32(w3, i)) * (nn - <f64>getF32(w3, i)));
        terms[2].push(s * s);
        terms[3].push(nn * nn);
        terms[4].push(<f64>uf * <f64>uf);
      }
      expect(ok).toBe(true);
      for (let k = 0; k < 5; k++) expectSum(getF64(sums, k), terms[k], i0, n);
    }
  });

  test("dualOutputPass: U1 = B − Z⁺ and its four sums (W1 recovered from B)", () => {
    const alpha: f64 = 1.6;
    for (let si = 0; si < STARTS.length; si++) for (let t = 0; t < SIZES.length; t++) {
      reseed(<u32>(151 + t + si * 23));
      const i0 = STARTS[si], n = i0 + SIZES[t];
      const b = buf(n), zn = buf(n), z = buf(n), u1 = buf(n), u0 = allocF32(n + 1), sums = allocF64(4);
      memory.copy(u0, u1, <usize>(n + 1) * 4);
      dualOutputPass(<usize>i0, <usize>n, 1.0 - alpha, 1.0 / alpha, b, zn, z, u1, true, sums);
      const terms: f64[][] = [[], [], [], []];
      let ok = getF32(u1, n) == GUARD;
      for (let i = 0; i < n; i++) {
        const bb = <f64>getF32(b, i), nn = <f64>getF32(zn, i), zo = <f64>getF32(z, i);
        const w1 = (bb - <f64>getF32(u0, i) - (1.0 - alpha) * zo) * (1.0 / alpha);
        if (i >= i0) ok = ok && getF32(u1, i) == getF32(b, i) - getF32(zn, i);
        terms[0].push((w1 - nn) * (w1 - nn));
        terms[1].push((nn - zo) * (nn - zo));
        terms[2].push(nn * nn);
        terms[3].push((bb - nn) * (bb - nn));
      }
      expect(ok).toBe(true);
      for (let k = 0; k < 4; k++) expectSum(getF64(sums, k), terms[k], i0, n);
    }
  });
});
