// Conjugate gradient for (G + I) X = B with several right-hand sides, for when
// a dense Cholesky factor of G + I does not fit. G is applied, never formed,
// in one of three ways:
//   cgSolveDense    G given as a dense n×n f32 SPD matrix,
//   cgSolveGram     G = X·Xᵀ with X dense (both X and Xᵀ passed, row-major),
//   cgSolveGramCsr  G = X·Xᵀ with X and Xᵀ in CSR (sparse layer inputs),
//   cgSolveConv     G = A*A of the conv operator configured in conv.ts (a conv layer's W-update).
// The nrhs columns run independent CG recurrences (own α, β, stopping test)
// but share each operator application, which is then a GEMM/SpMM.
// Storage is f32; dot products and norms accumulate in f64.

import { gemm } from "./gemm";
import { spmm } from "./sparse";
import { convAdjoint, convForward } from "./conv";

const OP_DENSE: i32 = 0;
const OP_GRAM_DENSE: i32 = 1;
const OP_GRAM_CSR: i32 = 2;
const OP_CONV: i32 = 3;

// The operator of the current solve (kernels are single-threaded and not re-entrant).
let opKind: i32 = 0;
let opN: i32 = 0;
let opP: i32 = 0;
let opA: usize = 0; // G, or X, or X's rowPtr
let opLda: i32 = 0;
let opB: usize = 0; // Xᵀ, or X's colIdx
let opLdb: i32 = 0;
let opC: usize = 0; // X's vals
let opD: usize = 0; // Xᵀ's rowPtr
let opE: usize = 0; // Xᵀ's colIdx
let opF: usize = 0; // Xᵀ's vals
let opTemp: usize = 0; // p×nrhs f32 for Xᵀ·d
let opScratch: usize = 0; // gemm scratch

/**
 * Bytes of `work` the CG solvers need: 5·nrhs f64 + (3·n + p)·nrhs f32
 * (use p = 0 for cgSolveDense).
 */
export function cgWorkBytes(n: i32, p: i32, nrhs: i32): i32 {
  return nrhs * 5 * 8 + (3 * n + p) * nrhs * 4;
}

/**
 * Solves (G + I) X = B, G dense n×n f32 SPD (leading dimension ldg).
 * `x` (n×nrhs, ldx) holds the initial guess and receives the solution.
 * Stops when every column has ‖r‖ ≤ tol·‖b‖ or after maxIter iterations;
 * returns the iterations used. `scratch` holds gemmScratchBytes().
 */
export function cgSolveDense(
  n: i32, g: usize, ldg: i32,
  nrhs: i32, b: usize, ldb: i32, x: usize, ldx: i32,
  tol: f64, maxIter: i32, work: usize, scratch: usize,
): i32 {
  opKind = OP_DENSE; opN = n; opP = 0;
  opA = g; opLda = ldg; opScratch = scratch;
  return cgCore(n, 0, nrhs, b, ldb, x, ldx, tol, maxIter, work);
}

/**
 * Solves (X·Xᵀ + I) S = B with X dense n×p (`xm`, ldxm) and its transpose
 * p×n (`xt`, ldxt) both supplied. Otherwise as cgSolveDense.
 */
export function cgSolveGram(
  n: i32, p: i32, xm: usize, ldxm: i32, xt: usize, ldxt: i32,
  nrhs: i32, b: usize, ldb: i32, x: usize, ldx: i32,
  tol: f64, maxIter: i32, work: usize, scratch: usize,
): i32 {
  opKind = OP_GRAM_DENSE; opN = n; opP = p;
  opA = xm; opLda = ldxm; opB = xt; opLdb = ldxt; opScratch = scratch;
  return cgCore(n, p, nrhs, b, ldb, x, ldx, tol, maxIter, work);
}

/**
 * Solves (X·Xᵀ + I) S = B with X (n×p) and Xᵀ (p×n) in CSR, as built by
 * csrFromDense / csrFromDenseTransposed. Otherwise as cgSolveDense (no gemm scratch).
 */
export function cgSolveGramCsr(
  n: i32, p: i32,
  xRowPtr: usize, xColIdx: usize, xVals: usize,
  xtRowPtr: usize, xtColIdx: usize, xtVals: usize,
  nrhs: i32, b: usize, ldb: i32, x: usize, ldx: i32,
  tol: f64, maxIter: i32, work: usize,
): i32 {
  opKind = OP_GRAM_CSR; opN = n; opP = p;
  opA = xRowPtr; opB = xColIdx; opC = xVals;
  opD = xtRowPtr; opE = xtColIdx; opF = xtVals;
  return cgCore(n, p, nrhs, b, ldb, x, ldx, tol, maxIter, work);
}

/**
 * Solves (A*A + I) X = B for the conv operator A that convConfigure set up: n = N̄ (kh·kw·Cin + 1),
 * p = P (samples·outH·outW), nrhs = its M. Otherwise as cgSolveDense (the gemm scratch is conv's).
 */
export function cgSolveConv(
  n: i32, p: i32, nrhs: i32, b: usize, ldb: i32, x: usize, ldx: i32,
  tol: f64, maxIter: i32, work: usize,
): i32 {
  opKind = OP_CONV; opN = n; opP = p;
  return cgCore(n, p, nrhs, b, ldb, x, ldx, tol, maxIter, work);
}

// out (n×nrhs, contiguous) = (G + I)·v (n×nrhs, contiguous).
function applyOperator(nrhs: i32, v: usize, out: usize): void {
  const n = opN;
  if (opKind == OP_DENSE) {
    gemm(n, nrhs, n, opA, opLda, v, nrhs, out, nrhs, 0, opScratch);
  } else if (opKind == OP_GRAM_DENSE) {
    gemm(opP, nrhs, n, opB, opLdb, v, nrhs, opTemp, nrhs, 0, opScratch);
    gemm(n, nrhs, opP, opA, opLda, opTemp, nrhs, out, nrhs, 0, opScratch);
  } else if (opKind == OP_CONV) {
    convForward(v, opTemp);
    convAdjoint(opTemp, out);
  } else {
    spmm(opP, nrhs, opD, opE, opF, v, nrhs, opTemp, nrhs);
    spmm(n, nrhs, opA, opB, opC, opTemp, nrhs, out, nrhs);
  }
  const count = n * nrhs;
  for (let i = 0; i < count; i++) {
    const off = <usize>i * 4;
    store<f32>(out + off, load<f32>(out + off) + load<f32>(v + off));
  }
}

function cgCore(
  n: i32, p: i32, nrhs: i32, b: usize, ldb: i32, x: usize, ldx: i32,
  tol: f64, maxIter: i32, work: usize,
): i32 {
  if (n <= 0 || nrhs <= 0) return 0;
  // Work layout: per-column f64 rr, new rr, bb, alpha/beta, active; then r, d, q, temp.
  const rr = work;
  const rrNext = rr + <usize>nrhs * 8;
  const bb = rrNext + <usize>nrhs * 8;
  const coef = bb + <usize>nrhs * 8;
  const active = coef + <usize>nrhs * 8;
  const r = active + <usize>nrhs * 8;
  const block = <usize>n * <usize>nrhs * 4;
  const d = r + block;
  const q = d + block;
  opTemp = q + block;
  const ldbBytes = <usize>ldb * 4, ldxBytes = <usize>ldx * 4, rowBytes = <usize>nrhs * 4;

  // r = b − (G + I)·x, starting from the caller's x (copied contiguous into d).
  for (let i = 0; i < n; i++) memory.copy(d + <usize>i * rowBytes, x + <usize>i * ldxBytes, rowBytes);
  applyOperator(nrhs, d, q);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nrhs; j++) {
      const off = <usize>i * rowBytes + <usize>j * 4;
      store<f32>(r + off, load<f32>(b + <usize>i * ldbBytes + <usize>j * 4) - load<f32>(q + off));
    }
  }
  memory.copy(d, r, block);
  columnDots(n, nrhs, r, r, rr);
  memory.fill(bb, 0, <usize>nrhs * 8);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nrhs; j++) {
      const v = <f64>load<f32>(b + <usize>i * ldbBytes + <usize>j * 4);
      const at = bb + <usize>j * 8;
      store<f64>(at, load<f64>(at) + v * v);
    }
  }
  const tol2 = tol * tol;
  for (let j = 0; j < nrhs; j++) store<f64>(active + <usize>j * 8, 1);
  let anyActive = updateActive(nrhs, rr, bb, tol2, active);

  let iter = 0;
  while (anyActive && iter < maxIter) {
    applyOperator(nrhs, d, q);
    // α_j = rr_j / (d_j · q_j) for the columns still running, 0 otherwise.
    columnDots(n, nrhs, d, q, coef);
    for (let j = 0; j < nrhs; j++) {
      const dq = load<f64>(coef + <usize>j * 8);
      const run = load<f64>(active + <usize>j * 8) != 0 && dq > 0;
      store<f64>(coef + <usize>j * 8, run ? load<f64>(rr + <usize>j * 8) / dq : 0);
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < nrhs; j++) {
        const alpha = <f32>load<f64>(coef + <usize>j * 8);
        const off = <usize>i * rowBytes + <usize>j * 4;
        const xp = x + <usize>i * ldxBytes + <usize>j * 4;
        store<f32>(xp, load<f32>(xp) + alpha * load<f32>(d + off));
        store<f32>(r + off, load<f32>(r + off) - alpha * load<f32>(q + off));
      }
    }
    // β_j = rr_new / rr_old; d = r + β d.
    columnDots(n, nrhs, r, r, rrNext);
    for (let j = 0; j < nrhs; j++) {
      const rrNew = load<f64>(rrNext + <usize>j * 8);
      const rrOld = load<f64>(rr + <usize>j * 8);
      store<f64>(coef + <usize>j * 8, rrOld > 0 ? rrNew / rrOld : 0);
      store<f64>(rr + <usize>j * 8, rrNew);
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < nrhs; j++) {
        const beta = <f32>load<f64>(coef + <usize>j * 8);
        const off = <usize>i * rowBytes + <usize>j * 4;
        store<f32>(d + off, load<f32>(r + off) + beta * load<f32>(d + off));
      }
    }
    iter++;
    anyActive = updateActive(nrhs, rr, bb, tol2, active);
  }
  return iter;
}

// out[j] = Σ_i u[i][j]·v[i][j] in f64, for n×nrhs contiguous u, v.
function columnDots(n: i32, nrhs: i32, u: usize, v: usize, out: usize): void {
  memory.fill(out, 0, <usize>nrhs * 8);
  const rowBytes = <usize>nrhs * 4;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nrhs; j++) {
      const off = <usize>i * rowBytes + <usize>j * 4;
      const at = out + <usize>j * 8;
      store<f64>(at, load<f64>(at) + <f64>load<f32>(u + off) * <f64>load<f32>(v + off));
    }
  }
}

// Marks column j active while ‖r_j‖² > tol²·‖b_j‖² (a zero b is solved once r is 0).
// Once a column stops it stays stopped. Returns whether any column is active.
function updateActive(nrhs: i32, rr: usize, bb: usize, tol2: f64, active: usize): bool {
  let any = false;
  for (let j = 0; j < nrhs; j++) {
    const at = active + <usize>j * 8;
    const wasActive = load<f64>(at) != 0;
    const running = load<f64>(rr + <usize>j * 8) > tol2 * load<f64>(bb + <usize>j * 8);
    const now = running && wasActive;
    store<f64>(at, now ? 1 : 0);
    any = any || now;
  }
  return any;
}
