// `infeasible` only on a certificate (issue 8, defect 2). It was declared when the dual bound
// exceeded 1000·‖W2‖₁ of the iterate: on feasible layers whose inputs are scaled by 1e-3 it fired
// after a single iteration. The linear program's feasibility is known exactly (ε against the
// least-squares residual), so both directions are checked against an independent f64 solve.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer } from "../bindings/index.ts";
import { gaussian, randomLayer } from "./helpers/problems.ts";

/** min over W, b of ‖input·W + b − output‖_F, by the normal equations in f64 (Gauss–Jordan). */
function leastSquaresResidual(input: Float32Array, output: Float32Array, P: number, N: number, M: number): number {
  const NB = N + 1;
  const row = (p: number, j: number) => (j < N ? input[p * N + j] : 1);
  let residual = 0;
  for (let m = 0; m < M; m++) {
    const a = Array.from({ length: NB }, () => new Float64Array(NB + 1));
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < NB; i++) {
        for (let j = 0; j < NB; j++) a[i][j] += row(p, i) * row(p, j);
        a[i][NB] += row(p, i) * output[p * M + m];
      }
    }
    for (let c = 0; c < NB; c++) {
      let pivot = c;
      for (let r = c + 1; r < NB; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
      [a[c], a[pivot]] = [a[pivot], a[c]];
      for (let r = 0; r < NB; r++) {
        if (r === c) continue;
        const f = a[r][c] / a[c][c];
        for (let k = c; k <= NB; k++) a[r][k] -= f * a[c][k];
      }
    }
    for (let p = 0; p < P; p++) {
      let z = 0;
      for (let j = 0; j < NB; j++) z += row(p, j) * (a[j][NB] / a[j][j]);
      residual += (z - output[p * M + m]) ** 2;
    }
  }
  return Math.sqrt(residual);
}

describe("infeasible only on a certificate", () => {
  it("feasible layers with inputs × 1e-3 and 1e-5 are never infeasible, however early the stop", async () => {
    const seen: string[] = [];
    for (const linear of [false, true]) {
      const p = randomLayer(1, 200, 30, 8, { linear });
      for (const a of [1, 1e-3, 1e-5]) {
        const x = p.input.map((v) => v * a);
        for (const maxIter of [1, 2, 5, 10, 100]) {
          const r = await pruneLayer(matrix(x, p.P, p.N), matrix(p.output, p.P, p.M), { kind: linear ? "linear" : "relu", maxIter, checkInterval: 1 });
          seen.push(r.status);
        }
      }
    }
    expect(seen).not.toContain("infeasible");
    expect(seen).toContain("max_iter_reached");
  });

  const g = gaussian(3);
  const P = 60, N = 5, M = 2;
  const input = new Float32Array(P * N).map(() => g());
  const output = new Float32Array(P * M).map(() => g());
  const floor = leastSquaresResidual(input, output, P, N, M);

  it("a linear layer just above its least-squares floor (feasible) is never infeasible", async () => {
    for (const maxIter of [10, 30, 100, 1000]) {
      const r = await pruneLayer(matrix(input, P, N), matrix(output, P, M), { kind: "linear", epsilon: 1.001 * floor, maxIter });
      expect(r.status, `maxIter ${maxIter}`).not.toBe("infeasible");
    }
  });

  it.each([0, 0.5, 0.9])("a linear layer with ε = %s × its least-squares floor is declared infeasible", async (f) => {
    const r = await pruneLayer(matrix(input, P, N), matrix(output, P, M), { kind: "linear", epsilon: f * floor, maxIter: 3000 });
    expect(r.status).toBe("infeasible");
    // The certificate: the bound is far above the weights a solve would use.
    expect(r.info.lowerBound).toBeGreaterThan(0);
  });
});
