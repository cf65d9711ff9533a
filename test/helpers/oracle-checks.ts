// A ReLU layer's ε > 0 optimum from PDHG in float64 (a different algorithm from the solver's), and
// the checks a solve of it must pass, recomputed from the RETURNED weights.
import { expect } from "vitest";
import type { LayerResult } from "../../bindings/index.ts";
import { measure, type Problem } from "./problems.ts";
import { pdhg, type PdhgResult } from "./pdhg.ts";

const maxOf = (a: Float32Array) => a.reduce((m, v) => Math.max(m, v), 0);

/** PDHG's answer for the relu program at `epsilon`, itself checked feasible (fit and leakage). */
export function reluOracle(p: Problem, epsilon: number, steps: number): PdhgResult {
  const oracle = pdhg({ ...p, epsilon, linear: false }, steps);
  const m = measure(p, oracle.weights, oracle.bias);
  expect(m.fit).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
  expect(m.leakage).toBeLessThanOrEqual(1e-3 * maxOf(p.output));
  return oracle;
}

/** `r` solved, its output error within ε and as reported, its ‖W‖₁ within [0.97, 1.01] × the oracle's. */
export function expectNearReluOracle(p: Problem, r: LayerResult, epsilon: number, oracle: PdhgResult): void {
  expect(r.status).toBe("solved");
  const m = measure(p, r.weights, r.bias);
  expect(m.outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
  expect(Math.abs(m.outputError - r.info.outputError)).toBeLessThanOrEqual(1e-4 * epsilon);
  expect(m.l1).toBeLessThanOrEqual(1.01 * oracle.objective);
  expect(m.l1).toBeGreaterThan(0.97 * oracle.objective);
}
