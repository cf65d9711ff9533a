// The reference engine's fixed data of one layer problem, in float64: the scaled design Xt and
// X = Xtᵀ, the Cholesky factor of C̃ = X·Xᵀ + I, and the plain-loop products over them.
import { C0_FACTOR } from "../defaults.ts";
import { FactorizationError, type LayerProblem } from "../solver/engine.ts";

/** The fixed, scaled data of one layer problem. */
export interface Design {
  /** Skip zero entries of the left operand in the products (what a sensible JS author does). */
  skipZeros: boolean;
  P: number;
  NB: number;
  M: number;
  linear: boolean;
  hasV: boolean;
  /** c0 and 1/c0. */
  c0: number;
  s: number;
  /** P×N̄, scaled, bias column last. */
  xt: Float64Array;
  /** N̄×P = Xtᵀ. */
  x: Float64Array;
  /** P×M, scaled. */
  y: Float64Array;
  /** P×M, scaled (zeros when there is no upper bound). */
  v: Float64Array;
  /** P×M: 1 on Ω (original output > activeThreshold). */
  mask: Uint8Array;
  /** Lower Cholesky factor L of C̃ (N̄×N̄ row-major, upper triangle zero). */
  chol: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Setup

/** Largest column sum of squares of a P×N row-major matrix. */
function maxColumnSumSquares(P: number, N: number, a: Float32Array): number {
  const sums = new Float64Array(N);
  for (let r = 0; r < P; r++) {
    const row = r * N;
    for (let c = 0; c < N; c++) {
      const v = a[row + c];
      sums[c] += v * v;
    }
  }
  let best = 0;
  for (let c = 0; c < N; c++) if (sums[c] > best) best = sums[c];
  return best;
}

/** Xt = [input·s | one] (P×N̄): `one` is biasUnit·s, or 0 without a bias. */
function buildDesign(P: number, N: number, input: Float32Array, s: number, one: number): Float64Array {
  const NB = N + 1;
  const xt = new Float64Array(P * NB);
  for (let r = 0; r < P; r++) {
    for (let c = 0; c < N; c++) xt[r * NB + c] = input[r * N + c] * s;
    xt[r * NB + N] = one;
  }
  return xt;
}

function transpose(rows: number, cols: number, a: Float64Array): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function scaled(a: Float32Array, s: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * s;
  return out;
}

/** C̃ = X·Xᵀ + I (N̄×N̄), from X (N̄×P) and Xt (P×N̄). */
function gramPlusIdentity(NB: number, P: number, x: Float64Array, xt: Float64Array): Float64Array {
  const c = new Float64Array(NB * NB);
  matmul(NB, NB, P, x, xt, c, true);
  for (let i = 0; i < NB; i++) c[i * NB + i] += 1;
  return c;
}

/** In-place lower Cholesky factorisation (C = L·Lᵀ); clears the upper triangle. Throws on a pivot ≤ 0. */
function cholesky(n: number, c: Float64Array): void {
  for (let j = 0; j < n; j++) {
    let d = c[j * n + j];
    for (let k = 0; k < j; k++) d -= c[j * n + k] * c[j * n + k];
    if (!(d > 0)) throw new FactorizationError(`Cholesky factorisation of XXᵀ/c0² + I failed at pivot ${j}`);
    const ljj = Math.sqrt(d);
    c[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = c[i * n + j];
      for (let k = 0; k < j; k++) t -= c[i * n + k] * c[j * n + k];
      c[i * n + j] = t / ljj;
    }
    for (let k = j + 1; k < n; k++) c[j * n + k] = 0;
  }
}

export function buildDesignAndFactor(problem: LayerProblem, skipZeros: boolean): Design {
  const { P, N, M } = problem;
  const NB = N + 1;
  // c0 = 0.3·sqrt(max diag XXᵀ); the bias row (value biasUnit) has diag P·biasUnit² (all zeros
  // without a bias).
  const u = problem.biasUnit;
  const maxDiag = Math.max(problem.fitBias ? P * u * u : 0, maxColumnSumSquares(P, N, problem.input));
  const c0 = maxDiag > 0 ? C0_FACTOR * Math.sqrt(maxDiag) : 1;
  const s = 1 / c0;
  const xt = buildDesign(P, N, problem.input, s, problem.fitBias ? u * s : 0);
  const x = transpose(P, NB, xt);
  const mask = new Uint8Array(P * M);
  for (let i = 0; i < P * M; i++) mask[i] = problem.output[i] > problem.activeThreshold ? 1 : 0;
  const y = scaled(problem.output, s);
  const v = problem.upperBound ? scaled(problem.upperBound, s) : new Float64Array(P * M);
  const chol = gramPlusIdentity(NB, P, x, xt);
  cholesky(NB, chol);
  return { skipZeros, P, NB, M, linear: problem.linear, hasV: problem.upperBound !== undefined, c0, s, xt, x, y, v, mask, chol };
}

// ---------------------------------------------------------------------------------------------
// Linear algebra (i-k-j loops; zeros of the left operand skipped unless `skipZeros` is off)

/** out (m×n) = a (m×k) · b (k×n). */
function matmul(m: number, n: number, k: number, a: Float64Array, b: Float64Array, out: Float64Array, skipZeros: boolean): void {
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const oi = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (skipZeros && aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[oi + j] += aip * b[bp + j];
    }
  }
}

/** Solves L·Lᵀ·X = X in place for the n×m right-hand sides in `x` (forward, then back substitution). */
export function cholSolve(n: number, m: number, l: Float64Array, x: Float64Array): void {
  // L·T = X (forward).
  for (let i = 0; i < n; i++) {
    const xi = i * m;
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k];
      if (lik === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) x[xi + j] -= lik * x[xk + j];
    }
    const inv = 1 / l[i * n + i];
    for (let j = 0; j < m; j++) x[xi + j] *= inv;
  }
  // Lᵀ·X = T (back).
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * m;
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i];
      if (lki === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) x[xi + j] -= lki * x[xk + j];
    }
    const inv = 1 / l[i * n + i];
    for (let j = 0; j < m; j++) x[xi + j] *= inv;
  }
}

/** out (P×M) = Xt · w (N̄×M). */
export function productXtW(D: Design, w: Float64Array, out: Float64Array): void {
  matmul(D.P, D.M, D.NB, D.xt, w, out, D.skipZeros);
}

/** out (N̄×M) = X · b (P×M). */
export function productXB(D: Design, b: Float64Array, out: Float64Array): void {
  matmul(D.NB, D.M, D.P, D.x, b, out, D.skipZeros);
}
