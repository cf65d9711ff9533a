// ‖K‖₂ of a Dense kernel [n, m] from above, PROVED where its Gram matrix is affordable. Power
// iteration (spectralNorm) gives an estimate σ̃ from below; ×(1 + 1e-6) is a margin, not a proof
// (it can stop short on a near-degenerate top of the spectrum, as it did on a conv's). The proof:
// G = KᵀK (or KKᵀ, the smaller) in f64 and a Cholesky factorisation of s·I − G, s = t − δ. If it
// completes with positive pivots, s·I − G + ΔA is positive definite with ‖ΔA‖₂ ≤ γ_{k+1}·trace
// (Demmel's backward error of Cholesky, ≤ (k+1)·u·k·t), and the rounded G is within
// γ_inner·trace(G) of the exact one, so λ_max(KᵀK) < s + both ≤ t when δ covers them:
// δ = 2u·((k+1)·k·t + inner·trace G). Then ‖K‖₂ ≤ √t. t starts at σ̃² (the bound is then the
// estimate's own number) and grows until the check passes; the Frobenius norm, always above, ends it.

/** Multiply-adds (Gram + Cholesky) above which the check is skipped (~5 s here): the estimate, unproved. */
const GRAM_WORK_LIMIT = 4e9;

export interface NormBound {
  norm: number;
  /** True: norm ≥ ‖K‖₂ proved (Cholesky check or Frobenius); false: power iteration ×(1 + 1e-6). */
  proved: boolean;
}

const UNIT_ROUNDOFF = 2 ** -53;
/** How t grows after a failed check: small steps first (a slightly low estimate), then ×1.1 each. */
const GROWTH = [1 + 1e-4, 1 + 1e-2, 1.1];

/** The smaller Gram matrix of the [n, m] kernel (order min(n, m)), f64, zero rows of K skipped. */
function smallerGram(kernel: ArrayLike<number>, n: number, m: number): Float64Array {
  if (m <= n) {
    // KᵀK = Σ_i row_iᵀ row_i: rows of K one at a time, the upper triangle, then mirrored.
    const g = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      const base = i * m;
      for (let a = 0; a < m; a++) {
        const va = kernel[base + a];
        if (va === 0) continue;
        for (let b = a; b < m; b++) g[a * m + b] += va * kernel[base + b];
      }
    }
    for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) g[a * m + b] = g[b * m + a];
    return g;
  }
  const g = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += kernel[a * m + j] * kernel[b * m + j];
      g[a * n + b] = s;
      g[b * n + a] = s;
    }
  }
  return g;
}

/** Whether the Cholesky factorisation of s·I − G (order k) completes with positive pivots. */
function shiftedCholeskyPasses(g: Float64Array, k: number, s: number): boolean {
  const r = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) r[i * k + j] = (i === j ? s : 0) - g[i * k + j];
  for (let p = 0; p < k; p++) {
    const pivot = r[p * k + p];
    if (!(pivot > 0)) return false;
    const root = Math.sqrt(pivot);
    for (let j = p; j < k; j++) r[p * k + j] /= root;
    for (let i = p + 1; i < k; i++) {
      const rpi = r[p * k + i];
      if (rpi === 0) continue;
      for (let j = i; j < k; j++) r[i * k + j] -= rpi * r[p * k + j];
    }
  }
  return true;
}

/**
 * ‖K‖₂ ≤ the returned norm, proved from the estimate `estimate` (see the file's head), unless the
 * check's work exceeds `workLimit` (then the estimate, `proved: false`).
 */
export function provedNormBound(kernel: ArrayLike<number>, n: number, m: number, estimate: number, workLimit = GRAM_WORK_LIMIT): NormBound {
  const k = Math.min(n, m), inner = Math.max(n, m);
  if (k === 0) return { norm: 0, proved: true };
  if ((inner * k * k) / 2 + (k * k * k) / 3 > workLimit) return { norm: estimate, proved: false };
  const g = smallerGram(kernel, n, m);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += g[i * k + i];
  if (trace === 0) return { norm: 0, proved: true };
  // trace(G) = ‖K‖_F² ≥ λ_max, up to its own rounding (inner·u relative): the last resort.
  const frobenius = Math.sqrt(trace * (1 + 2 * inner * UNIT_ROUNDOFF));
  let t = Math.max(estimate * estimate, (trace / k) * 1e-12);
  for (let attempt = 0; t < frobenius * frobenius; attempt++) {
    const delta = 2 * UNIT_ROUNDOFF * ((k + 1) * k * t + inner * trace);
    if (shiftedCholeskyPasses(g, k, t - delta)) return { norm: Math.sqrt(t), proved: true };
    t *= GROWTH[Math.min(attempt, GROWTH.length - 1)];
  }
  return { norm: frobenius, proved: true };
}

/**
 * Largest singular value of the [n, m] kernel (bias excluded), by power iteration on WᵀW run
 * until it changes by less than 1e-9 relative (it approaches from below), plus that margin.
 */
function spectralNorm(kernel: ArrayLike<number>, n: number, m: number, iterations = 500): number {
  if (n === 0 || m === 0) return 0;
  let v = new Float64Array(m).map((_, i) => 1 + 0.01 * ((i * 7919) % 13));
  const u = new Float64Array(n);
  let sigma = 0;
  for (let it = 0; it < iterations; it++) {
    let vn = 0;
    for (let j = 0; j < m; j++) vn += v[j] * v[j];
    vn = Math.sqrt(vn);
    if (vn === 0) return 0;
    for (let j = 0; j < m; j++) v[j] /= vn;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += kernel[i * m + j] * v[j];
      u[i] = s;
    }
    const next = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      const ui = u[i];
      if (ui === 0) continue;
      for (let j = 0; j < m; j++) next[j] += kernel[i * m + j] * ui;
    }
    let un = 0;
    for (let i = 0; i < n; i++) un += u[i] * u[i];
    const previous = sigma;
    sigma = Math.sqrt(un);
    v = next;
    if (Math.abs(sigma - previous) <= 1e-9 * sigma) break;
  }
  return sigma * (1 + 1e-6);
}

/** ‖K‖₂ of a Dense kernel [n, m]: power iteration's estimate, proved from above where affordable. */
export function certifiedSpectralNorm(kernel: ArrayLike<number>, n: number, m: number): NormBound {
  return provedNormBound(kernel, n, m, spectralNorm(kernel, n, m));
}
