// The W-update by conjugate gradient, for layers whose C̃ = XXᵀ/c0² + I is not factored (a conv
// layer's operator form, or a Dense layer whose N̄×N̄ factor does not fit): each W-update solves
// C̃·W3⁺ = D by CG on the products' own operator (admm.ts admmCgSolve), warm-started from W3.
import type { Backend } from "./loader.ts";
import type { AdmmEngine } from "../solver/engine.ts";

/** CG tolerance bounds: loose while the ADMM is far off, never below what f32 CG reaches. */
const CG_TOL_MAX = 1e-2, CG_TOL_MIN = 1e-6, CG_TOL_FACTOR = 0.1, CG_MAX_STEPS = 100;

/**
 * The loop engine with its W-update by CG: before each run of iterations the tolerance is set to
 * 0.1 × the relative primal residual of the last checked iteration (in [1e-6, 1e-2]); the ridge
 * least-squares weights, which the factored engine takes from C̃⁻¹, come from CG to 1e-6.
 */
export function withCgUpdate(backend: Backend, engine: AdmmEngine, P: number, NB: number, M: number, o: Record<string, number>): AdmmEngine {
  const ex = backend.exports;
  const f32 = (ptr: number, n: number) => new Float32Array(backend.memory.buffer, ptr, n);
  let tol = CG_TOL_MAX;
  let ridge: { rms: number; l1: number } | undefined;
  return {
    ...engine,
    start(...args) {
      tol = CG_TOL_MAX;
      engine.start(...args);
      ex.admmUseCg(o.cgWork, tol, CG_MAX_STEPS);
    },
    iterate(count, stats) {
      ex.admmUseCg(o.cgWork, tol, CG_MAX_STEPS);
      engine.iterate(count, stats);
      if (!stats) return;
      const st = engine.stats();
      const scale = Math.max(Math.sqrt(st.w1 + st.w2), Math.sqrt(st.z + st.w3));
      const rel = scale > 0 ? Math.sqrt(st.r1 + st.r2) / scale : 1;
      if (Number.isFinite(rel)) tol = Math.min(CG_TOL_MAX, Math.max(CG_TOL_MIN, CG_TOL_FACTOR * rel));
    },
    leastSquares() {
      if (ridge) return ridge;
      ex.productXB(o.y, o.d);
      f32(o.e, NB * M).fill(0);
      ex.admmCgSolve(o.d, o.e, CG_TOL_MIN, 10 * CG_MAX_STEPS, o.cgWork);
      let l1 = 0;
      for (const v of f32(o.e, NB * M)) l1 += Math.abs(v);
      ridge = { rms: Math.sqrt(ex.sumSquares64(NB * M, o.e) / (NB * M)), l1 };
      return ridge;
    },
  };
}
