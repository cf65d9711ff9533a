// f64 dense factorizations for SparseGPT (the upper Cholesky factor of H⁻¹ from H) and for the
// refit on the support (a Cholesky solve). Row-major n×n arrays; every inner loop runs along a row.
import { NetTrimError } from "../../errors.ts";

/** A = UᵀU with U upper triangular, written over A's upper triangle (the lower one is zeroed). */
export function choleskyUpperInPlace(a: Float64Array, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const pivot = a[i * n + i];
    if (!(pivot > 0) || !Number.isFinite(pivot)) {
      throw new NetTrimError("non_finite", `${what}: pivot ${i} of its Cholesky factorization is ${pivot}: expected a positive definite matrix`);
    }
    const d = Math.sqrt(pivot);
    const ri = i * n;
    for (let j = i; j < n; j++) a[ri + j] /= d;
    // Right-looking update of the trailing upper triangle: A[j][l] −= U[i][j]·U[i][l].
    for (let j = i + 1; j < n; j++) {
      const uij = a[ri + j];
      if (uij === 0) continue;
      const rj = j * n;
      for (let l = j; l < n; l++) a[rj + l] -= uij * a[ri + l];
    }
    for (let j = 0; j < i; j++) a[ri + j] = 0;
  }
}

/** V = U⁻¹ for an upper triangular U (V is upper triangular), by back substitution on rows. */
function invertUpper(u: Float64Array, n: number): Float64Array {
  const v = new Float64Array(n * n);
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const inv = 1 / u[ri + i];
    v[ri + i] = 1;
    // Row i of V: (e_i − Σ_{k>i} U[i][k]·V[k,:]) / U[i][i]; V[k,:] is zero before column k.
    for (let k = i + 1; k < n; k++) {
      const uik = u[ri + k];
      if (uik === 0) continue;
      const rk = k * n;
      for (let l = k; l < n; l++) v[ri + l] -= uik * v[rk + l];
    }
    for (let l = i; l < n; l++) v[ri + l] *= inv;
  }
  return v;
}

/**
 * The upper triangular U with H⁻¹ = UᵀU, for a symmetric positive definite H (row-major, not
 * modified): H = RᵀR, H⁻¹ = R⁻¹R⁻ᵀ, then the Cholesky factor of that.
 */
export function upperCholeskyOfInverse(h: Float64Array, n: number): Float64Array {
  const r = Float64Array.from(h);
  choleskyUpperInPlace(r, n, "the damped Hessian");
  const v = invertUpper(r, n);
  // H⁻¹[i][j] = Σ_{k ≥ j} V[i][k]·V[j][k] for i ≤ j: a dot product of two rows of V.
  const hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = j; k < n; k++) s += v[ri + k] * v[rj + k];
      hinv[ri + j] = s;
      hinv[rj + i] = s;
    }
  }
  choleskyUpperInPlace(hinv, n, "the inverse Hessian");
  return hinv;
}
