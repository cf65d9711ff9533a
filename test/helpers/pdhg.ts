// An independent oracle for ε > 0: the primal-dual hybrid gradient method (Chambolle–Pock) in
// float64, on the same program as the library but sharing none of its code or algorithm:
//   min ‖W̄‖₁ (or Σ c|W̄| with l1Weights c)  s.t.  X̄·W̄ ∈ K,   X̄ = [input | u·1] (P×N̄), W̄ = [W; b/u] (N̄×M),
//   K = {Z : ‖(Z − Y)_Ω‖_F ≤ ε, Z_{Ω^c} ≤ V}   (linear: ‖Z − Y‖_F ≤ ε).
// x ← soft(x − τ·X̄ᵀy, τ·c);  y ← v − σ·Π_K(v/σ) with v = y + σ·X̄(2x⁺ − x);  τσ‖X̄‖² < 1.
import { biasUnit, spectralNorm } from "./problems.ts";

export interface PdhgProblem {
  P: number; N: number; M: number;
  input: ArrayLike<number>; output: ArrayLike<number>;
  epsilon: number; linear: boolean; upperBound?: ArrayLike<number>;
  /** Per-weight ℓ1 weights c ([N+1, M], bias row last); all 1 when absent. */
  l1Weights?: ArrayLike<number>;
}

export interface PdhgResult {
  weights: Float64Array; // [N, M]
  bias: Float64Array; // [M]
  /** ‖W‖₁ + ‖b‖₁/u, or Σ c|W̄| with l1Weights */
  objective: number;
}

export function pdhg(pr: PdhgProblem, iterations: number): PdhgResult {
  const { P, N, M, output: y, epsilon, linear } = pr;
  const NB = N + 1;
  const u = biasUnit(pr.input, P, N);
  const a = new Float64Array(P * NB);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < N; j++) a[p * NB + j] = pr.input[p * N + j];
    a[p * NB + N] = u;
  }
  const active = (i: number) => linear || y[i] > 0;
  const vOf = (i: number) => (pr.upperBound ? pr.upperBound[i] : 0);
  // Step sizes from ‖X̄‖₂.
  const norm = spectralNorm(a, P, NB);
  const tau = 0.95 / norm, sigma = 0.95 / norm;
  const x = new Float64Array(NB * M), dual = new Float64Array(P * M);
  const xbar = new Float64Array(NB * M), vv = new Float64Array(P * M);
  for (let it = 0; it < iterations; it++) {
    // x⁺ = soft(x − τ·X̄ᵀy, τ); x̄ = 2x⁺ − x
    for (let j = 0; j < NB; j++) {
      for (let m = 0; m < M; m++) {
        let g = 0;
        for (let p = 0; p < P; p++) g += a[p * NB + j] * dual[p * M + m];
        const old = x[j * M + m];
        const t = old - tau * g;
        const c = pr.l1Weights ? pr.l1Weights[j * M + m] : 1;
        const next = Math.sign(t) * Math.max(Math.abs(t) - tau * c, 0);
        x[j * M + m] = next;
        xbar[j * M + m] = 2 * next - old;
      }
    }
    // v = y + σ·X̄x̄; y⁺ = v − σ·Π_K(v/σ)
    let dist2 = 0;
    for (let p = 0; p < P; p++) {
      for (let m = 0; m < M; m++) {
        let z = 0;
        for (let j = 0; j < NB; j++) z += a[p * NB + j] * xbar[j * M + m];
        const i = p * M + m;
        vv[i] = dual[i] + sigma * z;
        if (active(i)) dist2 += (vv[i] / sigma - y[i]) ** 2;
      }
    }
    const shrink = Math.min(1, epsilon / Math.sqrt(dist2 || 1e-300));
    for (let i = 0; i < P * M; i++) {
      const w = vv[i] / sigma;
      const proj = active(i) ? y[i] + (w - y[i]) * shrink : Math.min(w, vOf(i));
      dual[i] = vv[i] - sigma * proj;
    }
  }
  const weights = x.slice(0, N * M);
  const bias = x.slice(N * M).map((b) => b * u);
  let objective = 0;
  for (let i = 0; i < x.length; i++) objective += (pr.l1Weights ? pr.l1Weights[i] : 1) * Math.abs(x[i]);
  return { weights, bias, objective };
}
