// The Net-Trim ADMM loop (SPEC §3), run entirely inside WebAssembly.
//
// Layout: samples are rows. Xt is P×N̄ (the layer input with a bias column of biasUnit, divided by c0),
// X = Xtᵀ is N̄×P, every M-wide matrix is row-major. Variables (scaled units):
//   W1, U1, Y, V, Z = Xt·W3      P×M  (output side)
//   W2, W3, U2                   N̄×M  (weight side)
// One iteration (over-relaxed by α, Boyd §3.4.3):
//   W1 = Π_K(Z − U1)             ε-ball on Ω, ≤ V on Ω^c (the whole ball for a linear layer)
//   W2 = S_{c/ρ}(W3 − U2)         c = 1, or per-weight ℓ1 weights (reweighted ℓ1)
//   B  = α·W1 + (1−α)·Z + U1,    E = α·W2 + (1−α)·W3 + U2
//   W3⁺ = C̃⁻¹ (X·B + E),          Z⁺ = Xt·W3⁺
//   U1 = B − Z⁺,                 U2 = E − W3⁺
// C̃⁻¹ = (X·Xᵀ + I)⁻¹ is formed once at setup (it does not contain ρ), so an iteration is three
// products and the streaming passes of admm-passes.ts, with no allocation and no JS↔WASM traffic.
// JS lays out every buffer and passes the pointers once through admmConfigure.
// The Woodbury form (P < N̄, admm-woodbury.ts) holds K = (I + Xt·X)⁻¹ (P×P) instead of C̃⁻¹ (N̄×N̄).

import { gemm } from "./gemm";
import { spmmPacked } from "./sparse";
import { rowsProduct } from "./row-product";
import { convAdjoint, convAdjointRowsOfTransposed, convForward, convForwardRows } from "./conv";
import { transpose } from "./transpose";
import { cgSolveConv, cgSolveGram, cgSolveGramCsr } from "./cg";
import { scale } from "./vector";
import { addPass, ballPass, dualOutputPass, dualWeightPass, outputPass, subtractPass, weightPass } from "./admm-passes";
import { woodburyK, woodburyRightSide, woodburyWeights } from "./admm-woodbury";

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

let pCinv: usize = 0; // C̃⁻¹ (N̄×N̄), or K (P×P) in the Woodbury form
let useWoodbury: bool = false;
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
let pSums: usize = 0; // admmSumsBytes(P, N̄): f64 sums per slab
let pL1Weights: usize = 0; // N̄×M f32 ℓ1 weights c (threshold c/ρ), 0: all 1 (plain ℓ1)

let epsilon: f64 = 0; // scaled
let rho: f64 = 1;
let alpha: f64 = 1.6;

// The W-update by conjugate gradient, warm-started from W3 (admmUseCg): for layers whose C̃⁻¹
// is not formed. The operator is the products' own: conv.ts's, the CSR pair or dense Xt/X.
let useCg: bool = false;
let pCgWork: usize = 0;
let cgTol: f64 = 1e-3;
let cgMaxIter: i32 = 50;
let cgIterations: i32 = 0;

// Statistics of the last iteration run with stats on (sums of squares, f64), in admmStat's order:
// ‖W1 − Z⁺‖², ‖W2 − W3⁺‖², ‖Z⁺ − Z‖², ‖W3⁺ − W3‖², ‖W1‖², ‖W2‖², ‖Z⁺‖², ‖W3⁺‖², ‖U1‖², ‖U2‖².
let statR1: f64 = 0, statR2: f64 = 0, statS1: f64 = 0, statS2: f64 = 0, statW1: f64 = 0;
let statW2: f64 = 0, statZ: f64 = 0, statW3: f64 = 0, statU1: f64 = 0, statU2: f64 = 0;

/**
 * Stores the problem's pointers and dimensions. Called once per solve, before admmStart.
 * `sparse`: 0 dense GEMM on Xt/X, 1 CSR SpMM, 2 the conv operator of conv.ts (Xt/X unused).
 * `woodbury` nonzero: `cinv` holds K = (I + Xt·X)⁻¹ (P×P) and `d` has max(P, N̄)×M floats.
 */
export function admmConfigure(
  p: i32, nb: i32, m: i32, linear: i32, upperBound: i32, sparse: i32,
  xt: usize, x: usize,
  xtRow: usize, xtCol: usize, xtVal: usize,
  xRow: usize, xCol: usize, xVal: usize,
  cinv: usize, y: usize, v: usize, mask: usize,
  u1: usize, b: usize, z: usize, zNext: usize,
  w3: usize, w3Next: usize, w2: usize, u2: usize, e: usize, d: usize,
  scratch: usize, spmmScratch: usize, sums: usize, l1Weights: usize, woodbury: i32,
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
  pSums = sums;
  pL1Weights = l1Weights;
  useWoodbury = woodbury != 0 && !useConv;
  useCg = false;
  cgIterations = 0;
}

/** Switches the W-update to CG, relative tolerance `tol`, at most `maxIter` steps each; `work`: cgWorkBytes(N̄, P, M). */
export function admmUseCg(work: usize, tol: f64, maxIter: i32): void {
  useCg = true; pCgWork = work; cgTol = tol; cgMaxIter = maxIter;
}

/**
 * Solves (XXᵀ + I)·x = b (N̄×M each; x holds the start and receives the solution) by CG on the
 * configured products' operator: the conv operator, the CSR pair, or dense Xt and X. Returns the
 * CG steps taken. `work`: cgWorkBytes(N̄, P, M).
 */
export function admmCgSolve(b: usize, x: usize, tol: f64, maxIter: i32, work: usize): i32 {
  if (useConv) return cgSolveConv(NB, P, M, b, M, x, M, tol, maxIter, work);
  if (useSparse) return cgSolveGramCsr(NB, P, pXRow, pXCol, pXVal, pXtRow, pXtCol, pXtVal, M, b, M, x, M, tol, maxIter, work);
  return cgSolveGram(NB, P, pX, P, pXt, NB, M, b, M, x, M, tol, maxIter, work, pScratch);
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
  const outSlabs = slabCount(P), wSlabs = slabCount(NB);
  phaseBall(0, outSlabs);
  phaseShrink(0, outSlabs, 0, wSlabs, stats);
  phaseRightSide(0, 1, pScratch, pSpmmScratch);
  if (useWoodbury) phaseWoodburyK(0, outSlabs, pScratch);
  phaseWeights(0, wSlabs, stats, pScratch, pSpmmScratch);
  phaseOutputs(0, outSlabs, stats, pSpmmScratch, pScratch);
  finishIteration(stats);
}

/** Whether the W-update is the Woodbury form's (its phaseWoodburyK runs between the right side and the weights). */
export function usesWoodbury(): bool {
  return useWoodbury;
}

/** The Woodbury form's S = K·T on output slabs [s0, s1), into Z⁺'s buffer (phaseOutputs overwrites it). */
export function phaseWoodburyK(s0: i32, s1: i32, gemmScratch: usize): void {
  woodburyK(min(s0 * SLAB_ROWS, P), min(s1 * SLAB_ROWS, P), P, M, pCinv, pD, pZnext, gemmScratch);
}

// The phases of one iteration, each on a range of slabs (SLAB_ROWS rows of an M-wide matrix:
// output slabs cover P rows, weight slabs N̄ rows). A phase reads what earlier phases wrote on
// every slab, so threads (admm-threads.ts) wait for each other between phases; within a phase
// each slab is written by one thread only. Every f64 sum is summed per slab (into pSums, 11
// values per slab) and the slab sums added in slab order afterwards: the same bits for any split.

/** Rows per slab. A multiple of the GEMM micro-tile height (4). */
const SLAB_ROWS: i32 = 16;
/** f64 sums kept per slab: 0 ball, 1 ‖W1‖², 2–6 the weight-side stats, 7–10 the output-side stats. */
const SUMS_PER_SLAB: i32 = 11;
const SUM_BALL: i32 = 0;
const SUM_W1: i32 = 1;
const SUM_WEIGHT: i32 = 2;
const SUM_OUTPUT: i32 = 7;

function slabCount(rows: i32): i32 {
  return (rows + SLAB_ROWS - 1) / SLAB_ROWS;
}

/** Bytes of the per-slab sums buffer of a P×M / N̄×M problem. */
export function admmSumsBytes(p: i32, nb: i32): i32 {
  return max(slabCount(p), slabCount(nb)) * SUMS_PER_SLAB * 8;
}

@inline function slabSums(slab: i32, k: i32): usize {
  return pSums + (<usize>slab * SUMS_PER_SLAB + <usize>k) * 8;
}
/** First element of slab s of a matrix with `rows` rows (s may be the slab count: the end). */
@inline function slabStart(s: i32, rows: i32): usize {
  return <usize>min(s * SLAB_ROWS, rows) * <usize>M;
}

/** Σ over slabs [0, count) of sum k, in slab order. */
function sumOverSlabs(count: i32, k: i32): f64 {
  let t: f64 = 0;
  for (let s = 0; s < count; s++) t += load<f64>(slabSums(s, k));
  return t;
}

/** Per-slab ‖(Z − U1 − Y)_Ω‖² of the ε-ball projection. */
export function phaseBall(s0: i32, s1: i32): void {
  for (let s = s0; s < s1; s++) ballPass(slabStart(s, P), slabStart(s + 1, P), isLinear, pZ, pU1, pY, pMask, slabSums(s, SUM_BALL));
}

/** W1 = Π_K(Z − U1), B = α·W1 + (1−α)·Z + U1 on output slabs; W2 = S_{1/ρ}(W3 − U2), E on weight slabs. */
export function phaseShrink(o0: i32, o1: i32, w0: i32, w1: i32, stats: bool): void {
  const a = <f32>alpha, a1 = <f32>(1.0 - alpha);
  // g of the ε-ball projection on Ω: ε / max(‖(Z − U1 − Y)_Ω‖, ε); 0/0 is taken as 1.
  const n = Math.sqrt(sumOverSlabs(slabCount(P), SUM_BALL));
  const g = <f32>(n > epsilon ? epsilon / n : 1.0);
  for (let s = o0; s < o1; s++) {
    outputPass(slabStart(s, P), slabStart(s + 1, P), isLinear, hasUpperBound, g, a, a1,
      pZ, pU1, pY, pV, pMask, pB, stats, slabSums(s, SUM_W1));
  }
  // The conv adjoint reads B transposed: each thread transposes its own output slabs here, once,
  // into Z⁺'s buffer (unused until phaseOutputs writes it), rather than every thread all of B.
  if (useConv) {
    const r0 = min(o0 * SLAB_ROWS, P), r1 = min(o1 * SLAB_ROWS, P);
    if (r1 > r0) transpose(r1 - r0, M, pB + <usize>r0 * <usize>M * 4, M, pZnext + <usize>r0 * 4, P);
  }
  const tau = <f32>(1.0 / rho);
  for (let s = w0; s < w1; s++) weightPass(slabStart(s, NB), slabStart(s + 1, NB), tau, a, a1, pW3, pU2, pW2, pE, pL1Weights);
  // The Woodbury form's E − W3, into W3⁺'s buffer (phaseWeights overwrites it).
  if (useWoodbury) subtractPass(slabStart(w0, NB), slabStart(w1, NB), pE, pW3, pW3next);
}

/**
 * D = X·B + E, thread t's share of `threads`. Stored X: weight slabs (rightSideShareStart). The
 * conv operator: an even split of D's rows (kernel rows), which convAdjointRowsOfTransposed
 * computes with convAdjoint's bits whatever the split, from the Bᵀ phaseShrink wrote.
 */
export function phaseRightSide(t: i32, threads: i32, gemmScratch: usize, spmmScratch: usize): void {
  if (useConv) {
    const k0 = <i32>((<i64>NB * t) / threads), k1 = <i32>((<i64>NB * (t + 1)) / threads);
    convAdjointRowsOfTransposed(pZnext, P, pD, k0, k1); // Bᵀ, from phaseShrink
    addPass(<usize>k0 * <usize>M, <usize>k1 * <usize>M, pE, pD);
    return;
  }
  if (useWoodbury) {
    const outSlabs = slabCount(P);
    const o0 = <i32>((<i64>outSlabs * t) / threads), o1 = <i32>((<i64>outSlabs * (t + 1)) / threads);
    woodburyRightSide(min(o0 * SLAB_ROWS, P), min(o1 * SLAB_ROWS, P), NB, M, useSparse, pXt, pXtRow, pXtCol, pXtVal, pW3next, pB, pZ, pD, gemmScratch, spmmScratch);
    return;
  }
  const s0 = rightSideShareStart(t, threads), s1 = rightSideShareStart(t + 1, threads);
  const r0 = min(s0 * SLAB_ROWS, NB), r1 = min(s1 * SLAB_ROWS, NB);
  if (r1 <= r0) return;
  rowsProduct(r0, r1, P, M, useSparse, pX, pXRow, pXCol, pXVal, pB, pD, gemmScratch, spmmScratch);
  addPass(slabStart(s0, NB), slabStart(s1, NB), pE, pD);
}

/** W3⁺ = C̃⁻¹·D (Woodbury: X·S + E) and U2 = E − W3⁺ on weight slabs [s0, s1). */
export function phaseWeights(s0: i32, s1: i32, stats: bool, gemmScratch: usize, spmmScratch: usize): void {
  const r0 = min(s0 * SLAB_ROWS, NB), r1 = min(s1 * SLAB_ROWS, NB);
  if (r1 <= r0) return;
  if (useWoodbury) {
    woodburyWeights(r0, r1, P, M, useSparse, pX, pXRow, pXCol, pXVal, pZnext, pE, pW3next, gemmScratch, spmmScratch);
  } else if (useCg) {
    // Layers without C̃⁻¹ (one thread only: the host never threads a CG solve): CG on all of D,
    // warm-started from W3.
    memory.copy(pW3next, pW3, <usize>NB * <usize>M * 4);
    cgIterations += admmCgSolve(pD, pW3next, cgTol, cgMaxIter, pCgWork);
  } else {
    gemm(r1 - r0, M, NB, pCinv + <usize>r0 * <usize>NB * 4, NB, pD, M, pW3next + <usize>r0 * <usize>M * 4, M, 0, gemmScratch);
  }
  for (let s = s0; s < s1; s++) {
    dualWeightPass(slabStart(s, NB), slabStart(s + 1, NB), pE, pW3next, pW3, pW2, pU2, stats, slabSums(s, SUM_WEIGHT));
  }
}

/** Z⁺ = Xt·W3⁺ and U1 = B − Z⁺ on output slabs [s0, s1). */
export function phaseOutputs(s0: i32, s1: i32, stats: bool, spmmScratch: usize, gemmScratch: usize): void {
  const r0 = min(s0 * SLAB_ROWS, P), r1 = min(s1 * SLAB_ROWS, P);
  if (r1 <= r0) return;
  if (useConv) convForwardRows(pW3next, pZnext, r0, r1);
  else rowsProduct(r0, r1, NB, M, useSparse, pXt, pXtRow, pXtCol, pXtVal, pW3next, pZnext, gemmScratch, spmmScratch);
  for (let s = s0; s < s1; s++) {
    dualOutputPass(slabStart(s, P), slabStart(s + 1, P), 1.0 - alpha, 1.0 / alpha, pB, pZnext, pZ, pU1, stats, slabSums(s, SUM_OUTPUT));
  }
}

/** Swaps current and next, and adds up the statistics' slab sums. */
export function finishIteration(stats: bool): void {
  let t = pZ; pZ = pZnext; pZnext = t;
  t = pW3; pW3 = pW3next; pW3next = t;
  if (!stats) return;
  const o = slabCount(P), w = slabCount(NB);
  statW1 = sumOverSlabs(o, SUM_W1);
  statR2 = sumOverSlabs(w, SUM_WEIGHT); statS2 = sumOverSlabs(w, SUM_WEIGHT + 1);
  statW2 = sumOverSlabs(w, SUM_WEIGHT + 2); statW3 = sumOverSlabs(w, SUM_WEIGHT + 3); statU2 = sumOverSlabs(w, SUM_WEIGHT + 4);
  statR1 = sumOverSlabs(o, SUM_OUTPUT); statS1 = sumOverSlabs(o, SUM_OUTPUT + 1);
  statZ = sumOverSlabs(o, SUM_OUTPUT + 2); statU1 = sumOverSlabs(o, SUM_OUTPUT + 3);
}

// A threaded run (admm-threads.ts) has one instance per thread, each with its own globals: the
// state that changes between runs is published to shared memory by the instance that owns it
// and adopted by the others before they iterate.
const STATE_BYTES: usize = 48;

/** Bytes admmPublishState writes. */
export function admmStateBytes(): i32 {
  return <i32>STATE_BYTES;
}

/** Writes ε, ρ, α and the current places of the swapping iterates to `at`. */
export function admmPublishState(at: usize): void {
  store<f64>(at, epsilon, 0); store<f64>(at, rho, 8); store<f64>(at, alpha, 16);
  store<usize>(at, pZ, 24); store<usize>(at, pZnext, 28); store<usize>(at, pW3, 32); store<usize>(at, pW3next, 36);
}

/** Takes over the state admmPublishState wrote (dimensions and buffers come from admmConfigure). */
export function adoptState(at: usize): void {
  epsilon = load<f64>(at, 0); rho = load<f64>(at, 8); alpha = load<f64>(at, 16);
  pZ = load<usize>(at, 24); pZnext = load<usize>(at, 28); pW3 = load<usize>(at, 32); pW3next = load<usize>(at, 36);
}

/** Slab counts of the output side (P rows) and the weight side (N̄ rows). */
export function outputSlabCount(): i32 { return slabCount(P); }
export function weightSlabCount(): i32 { return slabCount(NB); }

/**
 * First weight slab of thread t's share of D = X·B (t = threads: the end). Dense X: an even split
 * of slabs. Sparse X: its rows (the input features) differ widely in nonzeros (an image's border
 * pixels are always 0), so the split evens out nonzeros plus a fixed cost per row.
 */
export function rightSideShareStart(t: i32, threads: i32): i32 {
  const slabs = slabCount(NB);
  if (!useSparse) return <i32>((<i64>slabs * t) / threads);
  if (t >= threads) return slabs;
  const target = rightSideCost(NB) * <f64>t / <f64>threads;
  let s = 0;
  while (s < slabs && rightSideCost(min(s * SLAB_ROWS, NB)) < target) s++;
  return s;
}

/** The work of X·B + E on the first `rows` rows of sparse X, in nonzeros (a row costs 16 more). */
@inline function rightSideCost(rows: i32): f64 {
  return <f64>(load<i32>(pXRow + <usize>rows * 4) - load<i32>(pXRow)) + <f64>rows * 16.0;
}

/** Statistic k of the last stats iteration (see the stat* globals, in declaration order). */
export function admmStat(k: i32): f64 {
  switch (k) {
    case 0: return statR1; case 1: return statR2; case 2: return statS1; case 3: return statS2; case 4: return statW1;
    case 5: return statW2; case 6: return statZ; case 7: return statW3; case 8: return statU1; case 9: return statU2;
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
