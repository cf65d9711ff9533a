// Theorem 3's experiment at two points of bench/theorem3.bench.ts's grid: well inside the
// recovery region every seed is recovered, well outside none is. Recovery is measured here, from
// the returned weights against the ground truth the instance was built from.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer } from "../bindings/index.ts";
import { RECOVERY_OPTIONS, recoveryProblem, relativeRecoveryError } from "../examples/sparse-recovery.ts";

const N = 100;
const SEEDS = [1, 2, 3, 4];

async function errors(s: number, P: number): Promise<number[]> {
  const out: number[] = [];
  for (const seed of SEEDS) {
    const problem = recoveryProblem(seed, N, s, P);
    const r = await pruneLayer(matrix(problem.input, P, N), matrix(problem.output, P, 1), RECOVERY_OPTIONS);
    expect(r.bias).toEqual(new Float32Array([0])); // fitBias: false, as in the theorem
    out.push(relativeRecoveryError(r.weights, problem.truth));
  }
  return out;
}

describe("Theorem 3: exact recovery of a sparse ReLU neuron", () => {
  it("builds s-sparse instances with Y = relu(X·w), the same for the same seed", () => {
    const a = recoveryProblem(7, N, 12, 30);
    expect(a.truth.filter((v) => v !== 0)).toHaveLength(12);
    expect(recoveryProblem(7, N, 12, 30)).toEqual(a);
    expect(recoveryProblem(8, N, 12, 30).truth).not.toEqual(a.truth);
    // Row 3 by hand.
    let z = 0;
    for (let j = 0; j < N; j++) z += a.input[3 * N + j] * a.truth[j];
    expect(a.output[3]).toBeCloseTo(Math.max(z, 0), 5);
  });

  it("recovers every seed at s = 5, P = 120 (bench: 20 of 20 from P = 80)", async () => {
    for (const e of await errors(5, 120)) expect(e).toBeLessThan(1e-3);
  });

  it("recovers no seed at s = 20, P = 40 (bench: 0 of 20 up to P = 70)", async () => {
    for (const e of await errors(20, 40)) expect(e).toBeGreaterThan(1e-2);
  });
});
