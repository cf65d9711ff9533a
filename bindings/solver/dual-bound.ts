// The weak-duality lower bound on the optimal ‖W‖₁ (SPEC §8), with one scale per neuron.
//
// For a multiplier Λ (M×P, Λ ≥ 0 on Ω^c) and any scales t_m ≥ 0, Λ' = diag(t)·Λ is again a
// valid multiplier, and it is dual feasible when t_m·c_m ≤ 1, c_m = ‖X·Λ_mᵀ‖∞ (column m of XΛᵀ
// depends on neuron m alone). Its dual value is
//   g(t) = Σ_m t_m·a_m − ε·sqrt(Σ_m t_m²·b_m²),  a_m = −⟨Λ_m,Ω, Y_m,Ω⟩ − ⟨Λ_m,Ω^c, V_m,Ω^c⟩,
//                                                  b_m = ‖Λ_m,Ω‖.
// One common scale (t_m = 1/max c) is what SPEC §8 states; maximising over t is never worse
// and stops one badly converged neuron from dragging down the whole bound.
//
// Weighted ℓ1 (min Σ w_jm |W_jm|, reweighting): the dual norm of Σ w|·| is max |·|/w, so the
// multiplier is dual feasible when t_m·c_m ≤ 1 with c_m = max_j |(X·Λᵀ)_jm| / w_jm; the same
// g(t) then bounds the weighted program's optimum.

/**
 * max over 0 ≤ t_m ≤ 1/c_m of g(t) (≥ 0: t = 0 is allowed). g is concave; at the optimum, with
 * s = sqrt(Σ t_m² b_m²), each t_m = clip(a_m·s/(ε·b_m²), 0, 1/c_m), and s is the fixed point of
 * that map, found by bisection (the map's value minus s is decreasing in s).
 */
export function perNeuronDualBound(a: Float64Array, b: Float64Array, c: Float64Array, epsilon: number): number {
  const M = a.length;
  // c_m = 0 would allow any scale; taking none (t_m = 0) keeps the bound valid and finite.
  const upper = (m: number) => (c[m] > 0 ? 1 / c[m] : 0);
  const tAt = (m: number, s: number) => {
    if (a[m] <= 0 || upper(m) === 0) return 0;
    if (b[m] === 0 || epsilon === 0) return upper(m);
    return Math.min(upper(m), (a[m] * s) / (epsilon * b[m] * b[m]));
  };
  const value = (s: number) => {
    let lin = 0, sq = 0;
    for (let m = 0; m < M; m++) {
      const t = tAt(m, s);
      lin += t * a[m];
      sq += t * t * b[m] * b[m];
    }
    return { lin, norm: Math.sqrt(sq) };
  };
  // s lies in [0, s_max] where s_max = ‖b / c‖ (all coordinates at their upper bound).
  let hi = 0;
  for (let m = 0; m < M; m++) {
    const u = upper(m);
    hi += u * u * b[m] * b[m];
  }
  hi = Math.sqrt(hi);
  let lo = 0;
  for (let it = 0; it < 200 && hi - lo > 1e-15 * (hi + 1); it++) {
    const mid = 0.5 * (lo + hi);
    if (value(mid).norm > mid) lo = mid;
    else hi = mid;
  }
  const v = value(hi);
  return Math.max(0, v.lin - epsilon * v.norm);
}

/**
 * The per-neuron terms a, b, c from Λ ([P, M]), Y, V (undefined: 0), the Ω mask (undefined: all
 * entries, a linear layer) and D = X·Λ ([N̄, M]); all in the same (scaled) units. `l1Weights`
 * ([N̄, M], positive; undefined: all 1) are the weights of a weighted ℓ1 objective.
 */
export function neuronDualTerms(
  lam: ArrayLike<number>, y: ArrayLike<number>, v: ArrayLike<number> | undefined, mask: ArrayLike<number> | undefined,
  d: ArrayLike<number>, P: number, NB: number, M: number, l1Weights?: ArrayLike<number>,
): { a: Float64Array; b: Float64Array; c: Float64Array } {
  const a = new Float64Array(M), b = new Float64Array(M), c = new Float64Array(M);
  for (let p = 0; p < P; p++) {
    for (let m = 0; m < M; m++) {
      const i = p * M + m;
      const l = lam[i];
      if (!mask || mask[i] !== 0) {
        a[m] -= l * y[i];
        b[m] += l * l;
      } else if (v) {
        a[m] -= l * v[i];
      }
    }
  }
  for (let m = 0; m < M; m++) b[m] = Math.sqrt(b[m]);
  for (let j = 0; j < NB; j++) {
    for (let m = 0; m < M; m++) {
      const dj = Math.abs(d[j * M + m]);
      // A zero weight leaves its entry unpenalised: any d ≠ 0 there rules out every scale t_m > 0.
      const r = l1Weights ? (dj === 0 ? 0 : dj / l1Weights[j * M + m]) : dj;
      c[m] = Math.max(c[m], r);
    }
  }
  return { a, b, c };
}
