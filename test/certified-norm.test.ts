// The Dense norm of the guarantees, proved from above: against the exact largest singular value
// (Jacobi, test/helpers/exact-norm.ts), from estimates below and above it, and where the check is
// skipped; then the flag in pruneNetwork's and pruneGraph's guarantees and the CLI line.
import { describe, expect, it } from "vitest";
import { certifiedSpectralNorm, provedNormBound } from "../bindings/network/certified-norm.ts";
import { guaranteeLine } from "../cli/report.ts";
import { exactLargestSingularValue } from "./helpers/exact-norm.ts";
import { gaussian } from "./helpers/problems.ts";

function sparseKernel(seed: number, n: number, m: number): Float32Array {
  const g = gaussian(seed);
  return new Float32Array(n * m).map((_, i) => (i % 3 === 1 ? 0 : g()));
}

/** [n, m] = Q·diag(s)·Rᵀ for Givens-rotated bases: singular values s exactly (up to f32 rounding). */
function knownSingularValues(s: number[], n: number, m: number): Float64Array {
  const rotate = (size: number, seed: number) => {
    const q = new Float64Array(size * size).map((_, i) => (i % (size + 1) === 0 ? 1 : 0));
    for (let p = 0; p + 1 < size; p++) {
      const c = Math.cos(0.3 + seed + p), sn = Math.sin(0.3 + seed + p);
      for (let r = 0; r < size; r++) {
        const a = q[r * size + p], b = q[r * size + p + 1];
        q[r * size + p] = c * a - sn * b;
        q[r * size + p + 1] = sn * a + c * b;
      }
    }
    return q;
  };
  const q = rotate(n, 1), r = rotate(m, 2);
  const k = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let t = 0; t < s.length; t++) k[i * m + j] += q[i * n + t] * s[t] * r[j * m + t];
  return k;
}

describe("certifiedSpectralNorm", () => {
  for (const [n, m] of [[30, 12], [12, 30], [25, 25], [1, 7]]) {
    it(`[${n}, ${m}]: proved, never below the exact norm, within pruneNetwork's 1e-6 margin`, () => {
      const kernel = sparseKernel(n * 100 + m, n, m);
      const exact = exactLargestSingularValue(kernel, n, m);
      const { norm, proved } = certifiedSpectralNorm(kernel, n, m);
      expect(proved).toBe(true);
      expect(norm).toBeGreaterThanOrEqual(exact);
      expect(norm / exact - 1).toBeLessThan(2e-6);
    });
  }

  it("a near-degenerate top (3 and 3·(1 − 1e-7)): still proved above the exact norm", () => {
    const k = knownSingularValues([3, 3 * (1 - 1e-7), 1, 0.5], 6, 4);
    const { norm, proved } = provedNormBound(k, 6, 4, 3 * (1 - 1e-5));
    expect(proved).toBe(true);
    expect(norm).toBeGreaterThanOrEqual(3 * (1 - 1e-12));
    expect(norm).toBeLessThan(3 * 1.01);
  });

  it("from an estimate half the norm: the check refuses it and the bound grows to above the norm (within √1.1)", () => {
    const kernel = sparseKernel(7, 20, 9);
    const exact = exactLargestSingularValue(kernel, 20, 9);
    const { norm, proved } = provedNormBound(kernel, 20, 9, 0.5 * exact);
    expect(proved).toBe(true);
    expect(norm).toBeGreaterThanOrEqual(exact);
    expect(norm).toBeLessThanOrEqual(exact * Math.sqrt(1.1) * (1 + 1e-9));
  });

  it("from an estimate above the norm: that estimate, proved", () => {
    const kernel = sparseKernel(8, 9, 20);
    const exact = exactLargestSingularValue(kernel, 9, 20);
    expect(provedNormBound(kernel, 9, 20, 1.2 * exact)).toEqual({ norm: 1.2 * exact, proved: true });
  });

  it("above the work limit: the estimate, not proved; an all-zero kernel: 0, proved", () => {
    const kernel = sparseKernel(9, 5, 4);
    expect(provedNormBound(kernel, 5, 4, 1.234, 0)).toEqual({ norm: 1.234, proved: false });
    expect(certifiedSpectralNorm(new Float32Array(12), 3, 4)).toEqual({ norm: 0, proved: true });
  });

  it("the CLI's guarantee line says when a norm was only estimated", () => {
    const g = { theorem: "Theorem 1 (parallel)", measuredError: 1, relativeError: 0.1, bound: 2, holds: true, appliesToReturnedWeights: true };
    expect(guaranteeLine({ ...g, normsProved: true })).not.toContain("estimated");
    expect(guaranteeLine({ ...g, normsProved: false })).toContain("some layer norms estimated by power iteration, not proved");
  });
});
