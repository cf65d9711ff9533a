import {
  fill, copy, scale, axpy, sumSquares64, dot64, diffSumSquares64, maxAbs, countAbove, softThreshold,
} from "../../assembly/vector";
import { f32ToF64, f64ToF32 } from "../../assembly/precision";
import { allocF32, allocF64, fillRandom, getF32, getF64, release, setF32, setF64 } from "./helpers";

// Lengths hitting empty input, pure tails, one vector + tail, and several vectors.
const LENGTHS: i32[] = [0, 1, 2, 3, 4, 5, 7, 8, 17, 67, 131];

// Writes a guard value just past n so overruns are caught.
const GUARD: f32 = -777.0;

function vec(n: i32): usize {
  const p = allocF32(n + 1);
  fillRandom(p, n);
  setF32(p, n, GUARD);
  return p;
}

describe("vector ops", () => {
  test("fill, copy, scale, axpy", () => {
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = vec(n), y = vec(n), y0 = vec(n);
      memory.copy(y0, y, <usize>n * 4);
      const alpha: f32 = -0.375;

      axpy(n, alpha, x, y);
      let ok = getF32(y, n) == GUARD;
      for (let i = 0; i < n; i++) ok = ok && getF32(y, i) == getF32(y0, i) + alpha * getF32(x, i);
      expect(ok).toBe(true);

      memory.copy(y0, x, <usize>n * 4);
      scale(n, alpha, x);
      ok = getF32(x, n) == GUARD;
      for (let i = 0; i < n; i++) ok = ok && getF32(x, i) == getF32(y0, i) * alpha;
      expect(ok).toBe(true);

      copy(n, x, y);
      ok = getF32(y, n) == GUARD;
      for (let i = 0; i < n; i++) ok = ok && getF32(y, i) == getF32(x, i);
      expect(ok).toBe(true);

      fill(n, y, 2.5);
      ok = getF32(y, n) == GUARD;
      for (let i = 0; i < n; i++) ok = ok && getF32(y, i) == <f32>2.5;
      expect(ok).toBe(true);
      release(x); release(y); release(y0);
    }
  });

  test("f64 reductions: sumSquares64, dot64, diffSumSquares64", () => {
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = vec(n), y = vec(n);
      let ss: f64 = 0, d: f64 = 0, dd: f64 = 0;
      for (let i = 0; i < n; i++) {
        const a = <f64>getF32(x, i), b = <f64>getF32(y, i);
        ss += a * a; d += a * b; dd += (a - b) * (a - b);
      }
      expect(Math.abs(sumSquares64(n, x) - ss)).toBeLessThanOrEqual(1e-12 * (ss + 1));
      expect(Math.abs(dot64(n, x, y) - d)).toBeLessThanOrEqual(1e-12 * (ss + 1));
      expect(Math.abs(diffSumSquares64(n, x, y) - dd)).toBeLessThanOrEqual(1e-12 * (dd + 1));
      release(x); release(y);
    }
  });

  test("f64 accumulation keeps small terms that f32 would drop", () => {
    // 1 followed by 4096 values of 2^-13: their squares (2^-26) each vanish
    // next to 1 in f32, but add up to 2^-14 in f64.
    const n = 4097;
    const x = allocF32(n);
    setF32(x, 0, 1);
    for (let i = 1; i < n; i++) setF32(x, i, <f32>Math.pow(2, -13));
    expect(sumSquares64(n, x)).toBe(1 + Math.pow(2, -14));
    release(x);
  });

  test("maxAbs, countAbove, softThreshold", () => {
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = vec(n), out = vec(n);
      const tau: f32 = 0.3;
      let m: f32 = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const a = Mathf.abs(getF32(x, i));
        m = Mathf.max(m, a);
        if (a > tau) count++;
      }
      expect(maxAbs(n, x)).toBe(m);
      expect(countAbove(n, x, tau)).toBe(count);

      softThreshold(n, x, tau, out);
      let ok = getF32(out, n) == GUARD;
      for (let i = 0; i < n; i++) {
        const v = getF32(x, i);
        const want: f32 = v > tau ? v - tau : (v < -tau ? v + tau : 0);
        ok = ok && getF32(out, i) == want;
      }
      expect(ok).toBe(true);
      // In place gives the same result.
      softThreshold(n, x, tau, x);
      for (let i = 0; i < n; i++) ok = ok && getF32(x, i) == getF32(out, i);
      expect(ok).toBe(true);
      release(x); release(out);
    }
  });

  test("f32ToF64 and f64ToF32", () => {
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = vec(n), wide = allocF64(n + 1), back = vec(n);
      setF64(wide, n, 99);
      f32ToF64(n, x, wide);
      let ok = getF64(wide, n) == 99;
      for (let i = 0; i < n; i++) ok = ok && getF64(wide, i) == <f64>getF32(x, i);
      for (let i = 0; i < n; i++) setF64(wide, i, getF64(wide, i) * (1 + 1e-12) + 1e-3);
      f64ToF32(n, wide, back);
      ok = ok && getF32(back, n) == GUARD;
      for (let i = 0; i < n; i++) ok = ok && getF32(back, i) == <f32>getF64(wide, i);
      expect(ok).toBe(true);
      release(x); release(wide); release(back);
    }
  });
});
