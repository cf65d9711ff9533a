// The Net-Trim ADMM loop (SPEC §3), run entirely inside WebAssembly.
//
// Layout: samples are rows. Xt is P×N̄ (the layer input with a bias column of biasUnit, divided by c0),
// X = Xtᵀ is N̄×P, every M-wide matrix is row-major. Variables (scaled units):
//   W1, U1, Y, V, Z = Xt·W3      P×M  (output side)
//   W2, W3, U2                   N̄×M  (weight side)
// One iteration (over-relaxed by α, Boyd §3.4.3):
//   W1 = Π_K(Z − U1)             ε-ball on Ω, ≤ V on Ω^c (the whole ball for a linear layer)
//   W2 = S_{1/ρ}(W3 − U2)
//   B  = α·W1 + (1−α)·Z + U1,    E = α·W2 + (1−α)·W3 + U2
//   W3⁺ = C̃⁻¹ (X·B + E),          Z⁺ = Xt·W3⁺
//   U1 = B − Z⁺,                 U2 = E − W3⁺
// C̃⁻¹ = (X·Xᵀ + I)⁻¹ is formed once at setup (it does not contain ρ), so an iteration is three
// products and five streaming passes, with no allocation and no JS↔WASM traffic.
// JS lays out every buffer and passes the pointers once through admmConfigure.

import { gemm } from "./gemm";
import { spmmPacked } from "./sparse";
import { convAdjoint, convForward } from "./conv";
import { cgSolveConv } from "./cg";
import { scale } from "./vector";

// Dimensions and switches.
let P: i32 = 0;
let NB: i32 = 0;
let M: i32 = 0;
let isLinear: bool = false;
let hasUpperBound: bool = false;
let useSparse: bool = false;
let useConv: bool = false; // the products are conv.ts's operator (configured there), not Xt/X

// Dense data (always present).
let pXt: usize = 0;
let pX: usize = 0;
// CSR copies of Xt (P rows) and X (N̄ rows), used when useSparse.
let pXtRow: usize = 0;
let pXtCol: usize = 0;
let pXtVal: usize = 0;
let pXRow: usize = 0;
let pXCol: usize = 0;
let pXVal: usize = 0;

let pCinv: usize = 0;
let pY: usize = 0;
let pV: usize = 0;
let pMask: usize = 0; // u8 P×M: 1 on Ω
let pU1: usize = 0;
let pB: usize = 0;
let pZ: usize = 0; // current Xt·W3
let pZnext: usize = 0;
let pW3: usize = 0;
let pW3next: usize = 0;
let pW2: usize = 0;
let pU2: usize = 0;
let pE: usize = 0;
let pD: usize = 0;
let pScratch: usize = 0;
let pSpmmScratch: usize = 0; // spmmScratchBytes(max(P, N̄))

let epsilon: f64 = 0; // scaled
let rho: f64 = 1;
let alpha: f64 = 1.6;

// The W-update by conjugate gradient on conv.ts's operator, warm-started from W3 (admmUseCg):
// for conv layers whose C̃⁻¹ is not formed.
let useCg: bool = false;
let pCgWork: usize = 0;
let cgTol: f64 = 1e-3;
let cgMaxIter: i32 = 50;
let cgIterations: i32 = 0;

// Statistics of the last iteration run with stats on (sums of squares, f64).
let statR1: f64 = 0; // ‖W1 − Z⁺‖²
let statR2: f64 = 0; // ‖W2 − W3⁺‖²
let statS1: f64 = 0; // ‖Z⁺ − Z‖²
let statS2: f64 = 0; // ‖W3⁺ − W3‖²
let statW1: f64 = 0; // ‖W1‖²
let statW2: f64 = 0; // ‖W2‖²
let statZ: f64 = 0; // ‖Z⁺‖²
let statW3: f64 = 0; // ‖W3⁺‖²
let statU1: f64 = 0; // ‖U1‖²
let statU2: f64 = 0; // ‖U2‖²

/**
 * Stores the problem's pointers and dimensions. Called once per solve, before admmStart.
 * `sparse`: 0 dense GEMM on Xt/X, 1 CSR SpMM, 2 the conv operator of conv.ts (Xt/X unused).
 */
export function admmConfigure(
  p: i32, nb: i32, m: i32, linear: i32, upperBound: i32, sparse: i32,
  xt: usize, x: usize,
  xtRow: usize, xtCol: usize, xtVal: usize,
  xRow: usize, xCol: usize, xVal: usize,
  cinv: usize, y: usize, v: usize, mask: usize,
  u1: usize, b: usize, z: usize, zNext: usize,
  w3: usize, w3Next: usize, w2: usize, u2: usize, e: usize, d: usize,
  scratch: usize, spmmScratch: usize,
): void {
  P = p; NB = nb; M = m;
  isLinear = linear != 0; hasUpperBound = upperBound != 0; useSparse = sparse == 1; useConv = sparse == 2;
  pXt = xt; pX = x;
  pXtRow = xtRow; pXtCol = xtCol; pXtVal = xtVal;
  pXRow = xRow; pXCol = xCol; pXVal = xVal;
  pCinv = cinv; pY = y; pV = v; pMask = mask;
  pU1 = u1; pB = b; pZ = z; pZnext = zNext;
  pW3 = w3; pW3next = w3Next; pW2 = w2; pU2 = u2; pE = e; pD = d;
  pScratch = scratch;
  pSpmmScratch = spmmScratch;
  useCg = false;
  cgIterations = 0;
}

/** Switches the W-update to CG (conv mode only), relative tolerance `tol`, at most `maxIter` steps each. */
export function admmUseCg(work: usize, tol: f64, maxIter: i32): void {
  useCg = true; pCgWork = work; cgTol = tol; cgMaxIter = maxIter;
}

/** CG steps taken by the W-updates since admmConfigure. */
export function admmCgIterations(): i32 {
  return cgIterations;
}

/** out (P×M) = Xt · w (N̄×M). */
export function productXtW(w: usize, out: usize): void {
  if (useConv) convForward(w, out);
  else if (useSparse) spmmPacked(P, M, NB, pXtRow, pXtCol, pXtVal, w, M, out, M, pSpmmScratch);
  else gemm(P, M, NB, pXt, NB, w, M, out, M, 0, pScratch);
}

/** out (N̄×M) = X · b (P×M). */
export function productXB(b: usize, out: usize): void {
  if (useConv) convAdjoint(b, out);
  else if (useSparse) spmmPacked(NB, M, P, pXRow, pXCol, pXVal, b, M, out, M, pSpmmScratch);
  else gemm(NB, M, P, pX, P, b, M, out, M, 0, pScratch);
}

/** Sets the starting point: W3 as stored at the W3 pointer, U1/U2 as stored; computes Z = Xt·W3. */
export function admmStart(eps: f64, rho0: f64, alpha0: f64): void {
  epsilon = eps;
  rho = rho0;
  // No statistics until an iteration runs.
  statR1 = NaN; statR2 = NaN; statS1 = NaN; statS2 = NaN; statW1 = NaN;
  statW2 = NaN; statZ = NaN; statW3 = NaN; statU1 = NaN; statU2 = NaN;
  alpha = alpha0;
  productXtW(pW3, pZ);
}

/** Changes ρ; the scaled duals U = λ/ρ are rescaled so the unscaled duals are unchanged. */
export function admmSetRho(newRho: f64): void {
  const f = <f32>(rho / newRho);
  scale(P * M, f, pU1);
  scale(NB * M, f, pU2);
  rho = newRho;
}

/** Runs `count` iterations; statistics are gathered on the last one when `stats` is nonzero. */
export function admmIterate(count: i32, stats: i32): void {
  for (let it = 0; it < count; it++) iterate(stats != 0 && it == count - 1);
}

function iterate(stats: bool): void {
  const nOut = <usize>P * <usize>M;
  const nW = <usize>NB * <usize>M;
  const a = <f32>alpha;
  const a1 = <f32>(1.0 - alpha);

  // W1 = Π_K(Z − U1); B = α·W1 + (1−α)·Z + U1.
  const g = <f32>ballScale();
  let w1sq: f64 = 0;
  for (let i: usize = 0; i < nOut; i++) {
    const o = i << 2;
    const z = load<f32>(pZ + o);
    const u = load<f32>(pU1 + o);
    const t = z - u;
    let w1: f32;
    if (isLinear || load<u8>(pMask + i) != 0) {
      const y = load<f32>(pY + o);
      w1 = y + g * (t - y);
    } else {
      const v: f32 = hasUpperBound ? load<f32>(pV + o) : 0;
      w1 = t < v ? t : v;
    }
    if (stats) w1sq += <f64>w1 * <f64>w1;
    store<f32>(pB + o, a * w1 + a1 * z + u);
  }

  // W2 = S_{1/ρ}(W3 − U2); E = α·W2 + (1−α)·W3 + U2.
  const tau = <f32>(1.0 / rho);
  for (let i: usize = 0; i < nW; i++) {
    const o = i << 2;
    const w3 = load<f32>(pW3 + o);
    const u = load<f32>(pU2 + o);
    const t = w3 - u;
    const mag = abs<f32>(t) - tau;
    const w2: f32 = mag > 0 ? (t > 0 ? mag : -mag) : 0;
    store<f32>(pW2 + o, w2);
    store<f32>(pE + o, a * w2 + a1 * w3 + u);
  }

  // W3⁺ = C̃⁻¹ (X·B + E).
  productXB(pB, pD);
  for (let i: usize = 0; i < nW; i++) {
    const o = i << 2;
    store<f32>(pD + o, load<f32>(pD + o) + load<f32>(pE + o));
  }
  if (useCg) {
    memory.copy(pW3next, pW3, nW << 2);
    cgIterations += cgSolveConv(NB, P, M, pD, M, pW3next, M, cgTol, cgMaxIter, pCgWork);
  } else {
    gemm(NB, M, NB, pCinv, NB, pD, M, pW3next, M, 0, pScratch);
  }

  // U2 = E − W3⁺, with the weight-side statistics.
  let r2: f64 = 0, s2: f64 = 0, w2sq: f64 = 0, w3sq: f64 = 0, u2sq: f64 = 0;
  for (let i: usize = 0; i < nW; i++) {
    const o = i << 2;
    const w3n = load<f32>(pW3next + o);
    const u = load<f32>(pE + o) - w3n;
    store<f32>(pU2 + o, u);
    if (stats) {
      const w2 = <f64>load<f32>(pW2 + o);
      const dw = <f64>w3n - <f64>load<f32>(pW3 + o);
      r2 += (w2 - <f64>w3n) * (w2 - <f64>w3n);
      s2 += dw * dw;
      w2sq += w2 * w2;
      w3sq += <f64>w3n * <f64>w3n;
      u2sq += <f64>u * <f64>u;
    }
  }

  // Z⁺ = Xt·W3⁺; U1 = B − Z⁺, with the output-side statistics.
  productXtW(pW3next, pZnext);
  let r1: f64 = 0, s1: f64 = 0, zsq: f64 = 0, u1sq: f64 = 0;
  const inva = 1.0 / alpha;
  for (let i: usize = 0; i < nOut; i++) {
    const o = i << 2;
    const zn = load<f32>(pZnext + o);
    const b = load<f32>(pB + o);
    if (stats) {
      // Recover the unrelaxed W1 from B = α·W1 + (1−α)·Z + U1.
      const zo = <f64>load<f32>(pZ + o);
      const w1 = (<f64>b - <f64>load<f32>(pU1 + o) - (1.0 - alpha) * zo) * inva;
      const un = <f64>b - <f64>zn;
      r1 += (w1 - <f64>zn) * (w1 - <f64>zn);
      s1 += (<f64>zn - zo) * (<f64>zn - zo);
      zsq += <f64>zn * <f64>zn;
      u1sq += un * un;
    }
    store<f32>(pU1 + o, b - zn);
  }

  // Swap current and next.
  let t = pZ; pZ = pZnext; pZnext = t;
  t = pW3; pW3 = pW3next; pW3next = t;

  if (stats) {
    statR1 = r1; statR2 = r2; statS1 = s1; statS2 = s2;
    statW1 = w1sq; statW2 = w2sq; statZ = zsq; statW3 = w3sq; statU1 = u1sq; statU2 = u2sq;
  }
}

/** g of the ε-ball projection on Ω: ε / max(‖(Z − U1 − Y)_Ω‖, ε); 0/0 is taken as 1. */
function ballScale(): f64 {
  const nOut = <usize>P * <usize>M;
  let sq: f64 = 0;
  for (let i: usize = 0; i < nOut; i++) {
    if (!isLinear && load<u8>(pMask + i) == 0) continue;
    const o = i << 2;
    const d = <f64>load<f32>(pZ + o) - <f64>load<f32>(pU1 + o) - <f64>load<f32>(pY + o);
    sq += d * d;
  }
  const n = Math.sqrt(sq);
  return n > epsilon ? epsilon / n : 1.0;
}

/** Statistic k of the last stats iteration (see the stat* globals, in declaration order). */
export function admmStat(k: i32): f64 {
  switch (k) {
    case 0: return statR1;
    case 1: return statR2;
    case 2: return statS1;
    case 3: return statS2;
    case 4: return statW1;
    case 5: return statW2;
    case 6: return statZ;
    case 7: return statW3;
    case 8: return statU1;
    case 9: return statU2;
    default: return rho;
  }
}

// Where the current iterates live: they swap every iteration, so read these after each call.
/** The soft-thresholded weights W2 (N̄×M). */
export function admmW2Pointer(): usize { return pW2; }
/** The least-squares weights W3 (N̄×M). */
export function admmW3Pointer(): usize { return pW3; }
/** The scaled dual U1 of the output constraint (P×M). */
export function admmU1Pointer(): usize { return pU1; }
/** The scaled dual U2 of W2 = W3 (N̄×M). */
export function admmU2Pointer(): usize { return pU2; }
/** A P×M buffer the iteration does not read between calls (free for measurements). */
export function admmFreeOutputPointer(): usize { return pZnext; }
