// The per-neuron scaled dual bound maximises g(t) = Σ t_m a_m − ε‖t∘b‖ over 0 ≤ t_m ≤ 1/c_m.
import { describe, expect, it } from "vitest";
import { perNeuronDualBound } from "../bindings/solver/dual-bound.ts";
import { gaussian, rng } from "./helpers/problems.ts";

function g(t: number[], a: Float64Array, b: Float64Array, eps: number) {
  let lin = 0, sq = 0;
  t.forEach((tm, m) => { lin += tm * a[m]; sq += (tm * b[m]) ** 2; });
  return lin - eps * Math.sqrt(sq);
}

describe("perNeuronDualBound", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`is at least every feasible g(t) and the single-scale bound (seed ${seed})`, () => {
      const n = gaussian(seed), u = rng(seed + 10);
      const M = 12;
      const a = new Float64Array(M).map(() => n() + 0.5);
      const b = new Float64Array(M).map(() => Math.abs(n()));
      const c = new Float64Array(M).map(() => 0.2 + u());
      const eps = 0.3 * u();
      const best = perNeuronDualBound(a, b, c, eps);
      const single = Math.max(0, g(Array.from(c).map(() => 1 / Math.max(...c)), a, b, eps));
      expect(best).toBeGreaterThanOrEqual(single - 1e-12);
      let sampledMax = 0;
      for (let k = 0; k < 5000; k++) {
        const t = Array.from(c).map((cm) => (u() < 0.3 ? (u() < 0.5 ? 0 : 1 / cm) : u() / cm));
        sampledMax = Math.max(sampledMax, g(t, a, b, eps));
      }
      expect(best).toBeGreaterThanOrEqual(sampledMax - 1e-9);
      // Not above the box's trivial upper bound Σ max(a_m, 0)/c_m.
      expect(best).toBeLessThanOrEqual(Array.from(a).reduce((s, am, m) => s + Math.max(am, 0) / c[m], 0) + 1e-12);
    });
  }
  it("is 0 when no scale helps, and ignores neurons with c_m = 0", () => {
    expect(perNeuronDualBound(Float64Array.of(-1, -2), Float64Array.of(1, 1), Float64Array.of(1, 1), 0.1)).toBe(0);
    expect(perNeuronDualBound(Float64Array.of(1, 5), Float64Array.of(0, 0), Float64Array.of(1, 0), 0)).toBeCloseTo(1, 12);
  });
});
