// The same layer in other units takes the same path (issue 8, defect 3): inputs, outputs and ε
// multiplied by one power of ten give the same iterations and the same weights, the bias
// multiplied by that power. Before the bias column took the inputs' units, X×0.01 took 1,040
// iterations instead of 120 and X, Y×1e-3 ended max_iter_reached at 2,000.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { frobenius, measure, randomLayer, type Problem } from "./helpers/problems.ts";

const FACTORS = [1e-5, 1e-3, 1e-2, 1e2, 1e3];

function maxRelDiff(a: Float32Array, b: Float32Array, scale: number): number {
  let worst = 0, top = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i] * scale));
    top = Math.max(top, Math.abs(a[i]));
  }
  return worst / (top || 1);
}

async function solve(p: Problem, ax: number, ay: number, linear: boolean): Promise<LayerResult> {
  const x = p.input.map((v) => v * ax), y = p.output.map((v) => v * ay);
  return pruneLayer(matrix(x, p.P, p.N), matrix(y, p.P, p.M), { kind: linear ? "linear" : "relu", epsilon: 0.05 * frobenius(y) });
}

describe.each([
  ["relu", randomLayer(7, 300, 40, 12), false],
  ["linear", randomLayer(8, 200, 30, 5, { linear: true }), true],
] as const)("a %s layer", (_, p, linear) => {
  it.each(FACTORS)("inputs, outputs and ε × %s: same iterations, same weights, bias × the factor", async (a) => {
    const base = await solve(p, 1, 1, linear);
    const r = await solve(p, a, a, linear);
    expect(base.status).toBe("solved");
    expect(r.status).toBe("solved");
    expect(Math.abs(r.info.iterations - base.info.iterations)).toBeLessThanOrEqual(0.1 * base.info.iterations);
    expect(maxRelDiff(r.weights, base.weights, 1)).toBeLessThan(1e-3);
    expect(maxRelDiff(r.bias, base.bias, a)).toBeLessThan(1e-3);
    // The budget holds in the new units, recomputed from the returned weights.
    const scaled = { ...p, input: p.input.map((v) => v * a), output: p.output.map((v) => v * a) };
    expect(measure(scaled, r.weights, r.bias, { linear }).fit).toBeLessThanOrEqual(r.info.epsilon * (1 + 1e-3));
  });
  it.each([1e-2, 1e3])("inputs alone × %s: same iterations, weights ÷ the factor, bias unchanged", async (a) => {
    const base = await solve(p, 1, 1, linear);
    const r = await solve(p, a, 1, linear);
    expect(r.status).toBe("solved");
    expect(Math.abs(r.info.iterations - base.info.iterations)).toBeLessThanOrEqual(0.1 * base.info.iterations);
    expect(maxRelDiff(r.weights, base.weights, 1 / a)).toBeLessThan(1e-3);
    expect(maxRelDiff(r.bias, base.bias, 1)).toBeLessThan(1e-3);
  });
});
