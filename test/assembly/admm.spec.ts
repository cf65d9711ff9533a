import {
  admmConfigure, admmIterate, admmSumsBytes, admmSetRho, admmStart, admmStat,
  admmU1Pointer, admmU2Pointer, admmW2Pointer, admmW3Pointer,
} from "../../assembly/admm";
import { gemmScratchBytes } from "../../assembly/gemm";
import { csrCount, csrFromDense, spmmScratchBytes } from "../../assembly/sparse";
import { transpose } from "../../assembly/transpose";
import { allocBytes, allocF32, allocF64, fillRandom, getF32, getF64, reseed, setF32, setF64 } from "./helpers";

// The ADMM iteration of assembly/admm.ts against a naive f64 loop of the formulas in its header:
//   W1 = Π_K(Z − U1), W2 = S_{1/ρ}(W3 − U2), B = α·W1 + (1−α)·Z + U1, E = α·W2 + (1−α)·W3 + U2,
//   W3⁺ = C̃⁻¹(X·B + E), Z⁺ = Xt·W3⁺, U1 = B − Z⁺, U2 = E − W3⁺.
// C̃⁻¹ is any N̄×N̄ matrix here: the iteration only multiplies by what is stored.

class Case {
  xt: usize; x: usize; cinv: usize; y: usize; v: usize; mask: usize;
  u1: usize; b: usize; z: usize; zn: usize; w3: usize; w3n: usize; w2: usize; u2: usize; e: usize; d: usize;
  scratch: usize; spmm: usize; sums: usize;
  xtRow: usize = 0; xtCol: usize = 0; xtVal: usize = 0; xRow: usize = 0; xCol: usize = 0; xVal: usize = 0;
  // The reference state, f64: W3, U1, U2 (Z is recomputed from W3).
  rw3: usize; ru1: usize; ru2: usize;
  stats: f64[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

  constructor(public P: i32, public NB: i32, public M: i32, public linear: bool, public withV: bool, public sparse: bool) {
    const out = P * M, w = NB * M;
    this.xt = allocF32(P * NB); this.x = allocF32(NB * P); this.cinv = allocF32(NB * NB);
    this.y = allocF32(out); this.v = allocF32(out); this.mask = allocBytes(out);
    this.u1 = allocF32(out); this.b = allocF32(out); this.z = allocF32(out); this.zn = allocF32(out);
    this.w3 = allocF32(w); this.w3n = allocF32(w); this.w2 = allocF32(w); this.u2 = allocF32(w);
    this.e = allocF32(w); this.d = allocF32(w);
    this.scratch = allocBytes(gemmScratchBytes());
    this.spmm = allocBytes(spmmScratchBytes(max(P, NB)));
    this.sums = allocBytes(admmSumsBytes(P, NB));
    fillRandom(this.xt, P * NB, sparse ? 0.4 : 1.0);
    transpose(P, NB, this.xt, NB, this.x, P);
    fillRandom(this.cinv, NB * NB);
    for (let i = 0; i < NB; i++) setF32(this.cinv, i * NB + i, getF32(this.cinv, i * NB + i) + 2);
    fillRandom(this.y, out, 0.6); // zeros are Ω^c (relu)
    for (let i = 0; i < out; i++) {
      setF32(this.y, i, abs<f32>(getF32(this.y, i)));
      store<u8>(this.mask + i, getF32(this.y, i) > 0 ? 1 : 0);
    }
    if (withV) fillRandom(this.v, out);
    fillRandom(this.w3, w); fillRandom(this.u1, out); fillRandom(this.u2, w);
    if (sparse) {
      const nnz = csrCount(P, NB, this.xt, NB);
      this.xtRow = allocBytes((P + 1) * 4); this.xtCol = allocBytes(nnz * 4); this.xtVal = allocF32(nnz);
      this.xRow = allocBytes((NB + 1) * 4); this.xCol = allocBytes(nnz * 4); this.xVal = allocF32(nnz);
      csrFromDense(P, NB, this.xt, NB, this.xtRow, this.xtCol, this.xtVal);
      csrFromDense(NB, P, this.x, P, this.xRow, this.xCol, this.xVal);
    }
    this.rw3 = allocF64(w); this.ru1 = allocF64(out); this.ru2 = allocF64(w);
    for (let i = 0; i < w; i++) { setF64(this.rw3, i, <f64>getF32(this.w3, i)); setF64(this.ru2, i, <f64>getF32(this.u2, i)); }
    for (let i = 0; i < out; i++) setF64(this.ru1, i, <f64>getF32(this.u1, i));
    admmConfigure(P, NB, M, linear ? 1 : 0, withV ? 1 : 0, sparse ? 1 : 0, this.xt, this.x,
      this.xtRow, this.xtCol, this.xtVal, this.xRow, this.xCol, this.xVal,
      this.cinv, this.y, this.v, this.mask, this.u1, this.b, this.z, this.zn,
      this.w3, this.w3n, this.w2, this.u2, this.e, this.d, this.scratch, this.spmm, this.sums, 0, 0);
  }

  /** Z = Xt·W (f64) of a reference weight matrix. */
  product(w: usize): usize {
    const out = allocF64(this.P * this.M);
    for (let p = 0; p < this.P; p++) for (let m = 0; m < this.M; m++) {
      let s: f64 = 0;
      for (let j = 0; j < this.NB; j++) s += <f64>getF32(this.xt, p * this.NB + j) * getF64(w, j * this.M + m);
      setF64(out, p * this.M + m, s);
    }
    return out;
  }

  /** One iteration of the formulas, in f64; returns W2 and keeps the statistics. */
  step(eps: f64, rho: f64, alpha: f64): usize {
    const P = this.P, NB = this.NB, M = this.M, out = P * M, w = NB * M;
    const z = this.product(this.rw3);
    let sq: f64 = 0;
    for (let i = 0; i < out; i++) {
      if (!this.linear && load<u8>(this.mask + i) == 0) continue;
      const dd = getF64(z, i) - getF64(this.ru1, i) - <f64>getF32(this.y, i);
      sq += dd * dd;
    }
    const g = Math.sqrt(sq) > eps ? eps / Math.sqrt(sq) : 1.0;
    const b = allocF64(out), w1 = allocF64(out);
    for (let i = 0; i < out; i++) {
      const t = getF64(z, i) - getF64(this.ru1, i);
      let v: f64;
      if (this.linear || load<u8>(this.mask + i) != 0) v = <f64>getF32(this.y, i) + g * (t - <f64>getF32(this.y, i));
      else v = Math.min(t, this.withV ? <f64>getF32(this.v, i) : 0);
      setF64(w1, i, v);
      setF64(b, i, alpha * v + (1 - alpha) * getF64(z, i) + getF64(this.ru1, i));
    }
    const w2 = allocF64(w), e = allocF64(w);
    for (let i = 0; i < w; i++) {
      const t = getF64(this.rw3, i) - getF64(this.ru2, i);
      const mag = Math.abs(t) - 1 / rho;
      const s: f64 = mag > 0 ? (t > 0 ? mag : -mag) : 0;
      setF64(w2, i, s);
      setF64(e, i, alpha * s + (1 - alpha) * getF64(this.rw3, i) + getF64(this.ru2, i));
    }
    const w3n = allocF64(w);
    for (let j = 0; j < NB; j++) for (let m = 0; m < M; m++) {
      let s: f64 = 0;
      for (let k = 0; k < NB; k++) {
        let xb: f64 = getF64(e, k * M + m);
        for (let p = 0; p < P; p++) xb += <f64>getF32(this.x, k * P + p) * getF64(b, p * M + m);
        s += <f64>getF32(this.cinv, j * NB + k) * xb;
      }
      setF64(w3n, j * M + m, s);
    }
    const zn = this.product(w3n);
    const st: f64[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < out; i++) {
      const u = getF64(b, i) - getF64(zn, i);
      st[0] += (getF64(w1, i) - getF64(zn, i)) ** 2; st[2] += (getF64(zn, i) - getF64(z, i)) ** 2;
      st[4] += getF64(w1, i) ** 2; st[6] += getF64(zn, i) ** 2; st[8] += u * u;
      setF64(this.ru1, i, u);
    }
    for (let i = 0; i < w; i++) {
      const u = getF64(e, i) - getF64(w3n, i);
      st[1] += (getF64(w2, i) - getF64(w3n, i)) ** 2; st[3] += (getF64(w3n, i) - getF64(this.rw3, i)) ** 2;
      st[5] += getF64(w2, i) ** 2; st[7] += getF64(w3n, i) ** 2; st[9] += u * u;
      setF64(this.ru2, i, u);
      setF64(this.rw3, i, getF64(w3n, i));
    }
    this.stats = st;
    return w2;
  }
}

/** max |wasm − ref| / max(|ref|, 1e-3) over `count` entries. */
function gap(count: i32, wasm: usize, ref: usize): f64 {
  let worst: f64 = 0, top: f64 = 1e-3;
  for (let i = 0; i < count; i++) {
    worst = Math.max(worst, Math.abs(<f64>getF32(wasm, i) - getF64(ref, i)));
    top = Math.max(top, Math.abs(getF64(ref, i)));
  }
  return worst / top;
}

function run(P: i32, NB: i32, M: i32, linear: bool, withV: bool, sparse: bool): void {
  reseed(<u32>(P * 131 + NB * 17 + M));
  const c = new Case(P, NB, M, linear, withV, sparse);
  const eps: f64 = 0.3, rho: f64 = 2.5, alpha: f64 = 1.6;
  admmStart(eps, rho, alpha);
  for (let it = 0; it < 3; it++) {
    admmIterate(1, 1);
    const w2 = c.step(eps, rho, alpha);
    expect(gap(NB * M, admmW2Pointer(), w2)).toBeLessThan(1e-5);
    expect(gap(NB * M, admmW3Pointer(), c.rw3)).toBeLessThan(1e-5);
    expect(gap(P * M, admmU1Pointer(), c.ru1)).toBeLessThan(1e-5);
    expect(gap(NB * M, admmU2Pointer(), c.ru2)).toBeLessThan(1e-5);
    for (let k = 0; k < 10; k++) expect(Math.abs(admmStat(k) - c.stats[k])).toBeLessThan(1e-4 * Math.max(c.stats[k], 1e-3));
  }
  // A new ρ rescales the scaled duals so that ρ·U is unchanged.
  const u1Before = getF32(admmU1Pointer(), 0);
  admmSetRho(rho * 4);
  expect(Math.abs(<f64>getF32(admmU1Pointer(), 0) - <f64>u1Before / 4)).toBeLessThan(1e-6 * (Math.abs(<f64>u1Before) + 1e-3));
}

describe("admmIterate", () => {
  test("relu, dense products, shapes 1×1×1 to 17×5×3", () => {
    run(1, 1, 1, false, false, false);
    run(3, 2, 2, false, false, false);
    run(17, 5, 3, false, false, false);
  });
  test("relu with an upper bound V on Ω^c", () => {
    run(9, 4, 2, false, true, false);
  });
  test("linear layer (the ball on every entry)", () => {
    run(12, 6, 3, true, false, false);
  });
  test("sparse products give the same iterates", () => {
    run(17, 5, 3, false, false, true);
    run(20, 9, 2, true, false, true);
  });
});
