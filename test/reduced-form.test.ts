// The reduced form of linear layers (bindings/wasm/reduced-engine.ts): the program on the QR
// factor of the design instead of the P samples. Checked against the samples form, against the
// f64 PDHG oracle, and on the returned weights measured on the ORIGINAL samples.
import { beforeAll, describe, expect, it } from "vitest";
import {
  compileModule, instantiate, matrix, pruneLayer, pruneLayerReference, pruneLayerWith, ShapeError, ValidationError, type Backend,
} from "../bindings/index.ts";
import { pdhg } from "./helpers/pdhg.ts";
import { biasUnit, frobenius, gaussian, measure, randomLayer, type Problem } from "./helpers/problems.ts";

/** A linear layer whose outputs are not exactly reachable (seeded noise): its floor is > 0. */
function noisyLinear(seed: number, P: number, N: number, M: number, noise: number): Problem {
  const p = randomLayer(seed, P, N, M, { linear: true, zeroInputs: 0.4 });
  const g = gaussian(seed + 5);
  return { ...p, output: p.output.map((v) => v + noise * g()) };
}

/** min ‖[X u]W̄ − Y‖_F by the normal equations in f64 (Cholesky in the test's own code). */
function leastSquaresFloor(p: Problem): number {
  const { P, N, M } = p;
  const n = N + 1, u = biasUnit(p.input, P, N);
  const x = (i: number, k: number) => (k === N ? u : p.input[i * N + k]);
  const g = new Float64Array(n * n), b = new Float64Array(n * M);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < n; j++) {
      const xj = x(i, j);
      for (let k = 0; k < n; k++) g[j * n + k] += xj * x(i, k);
      for (let c = 0; c < M; c++) b[j * M + c] += xj * p.output[i * M + c];
    }
  }
  for (let j = 0; j < n; j++) {
    for (let k = 0; k <= j; k++) {
      let s = g[j * n + k];
      for (let t = 0; t < k; t++) s -= g[j * n + t] * g[k * n + t];
      g[j * n + k] = j === k ? Math.sqrt(s) : s / g[k * n + k];
    }
  }
  const w = new Float64Array(n * M);
  for (let c = 0; c < M; c++) {
    const z = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = b[j * M + c];
      for (let t = 0; t < j; t++) s -= g[j * n + t] * z[t];
      z[j] = s / g[j * n + j];
    }
    for (let j = n - 1; j >= 0; j--) {
      let s = z[j];
      for (let t = j + 1; t < n; t++) s -= g[t * n + j] * w[t * M + c];
      w[j * M + c] = s / g[j * n + j];
    }
  }
  const weights = w.slice(0, N * M), bias = w.slice(N * M).map((v) => v * u);
  return measure(p, weights, bias, { linear: true }).fit;
}

const X = (p: Problem) => matrix(p.input, p.P, p.N);
const Y = (p: Problem) => matrix(p.output, p.P, p.M);

describe("linear layers in the reduced form", () => {
  it.each([
    [1, 200, 30, 5],
    [2, 300, 10, 4],
    [3, 61, 30, 4], // P = 2·(N + 1) − 1: auto keeps the samples form; forced here
  ])("seed %i, P %i, N %i, M %i: same optimum as the PDHG oracle, info measured on the original samples", async (seed, P, N, M) => {
    const p = noisyLinear(seed, P, N, M, 0.05);
    const epsilon = 0.08 * frobenius(p.output);
    const r = await pruneLayer(X(p), Y(p), { kind: "linear", epsilon, linearForm: "reduced", relTol: 1e-5, dualRelTol: 1e-4, maxIter: 20000 });
    expect(r.status).toBe("solved");
    expect(r.info.linearForm).toBe("reduced");
    const m = measure(p, r.weights, r.bias, { linear: true });
    expect(Math.abs(r.info.outputError - m.outputError)).toBeLessThanOrEqual(1e-5 * m.outputError);
    expect(Math.abs(r.info.fitError - m.fit)).toBeLessThanOrEqual(1e-5 * m.fit);
    expect(m.outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
    expect(Math.abs(r.info.l1Norm - m.l1)).toBeLessThanOrEqual(1e-6 * m.l1);
    // 3,000 steps: seeds 1 and 2 are at PDHG's fixed point, the 30,000-step run's bits, from step
    // 250 on; seed 3's objective is the 30,000-step one to the bit from step 1,000 on.
    const oracle = pdhg({ ...p, epsilon, linear: true }, 3000);
    expect(measure(p, oracle.weights, oracle.bias, { linear: true }).fit).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
    expect(Math.abs(r.info.l1Norm - oracle.objective)).toBeLessThanOrEqual(2e-4 * oracle.objective);
    expect(r.info.lowerBound).toBeLessThanOrEqual(oracle.objective * (1 + 1e-5));
  });

  it("default options: the reduced and the samples forms end at the same objective within 0.5%", async () => {
    const p = noisyLinear(4, 3000, 80, 10, 0.05);
    const reduced = await pruneLayer(X(p), Y(p), { kind: "linear", epsilonGain: 0.1 });
    const samples = await pruneLayer(X(p), Y(p), { kind: "linear", epsilonGain: 0.1, linearForm: "samples" });
    expect([reduced.info.linearForm, samples.info.linearForm]).toEqual(["reduced", "samples"]);
    expect([reduced.status, samples.status]).toEqual(["solved", "solved"]);
    expect(Math.abs(reduced.info.l1Norm - samples.info.l1Norm)).toBeLessThanOrEqual(5e-3 * samples.info.l1Norm);
  });

  it("auto picks the reduced form from P ≥ 2·(inputs + 1) on, up to 256 rows, linear layers only", async () => {
    const at = async (P: number, kind: "linear" | "relu", N = 9) => {
      const p = randomLayer(5, P, N, 3, { linear: kind === "linear" });
      return (await pruneLayer(X(p), Y(p), { kind, maxIter: 20 })).info.linearForm;
    };
    expect(await at(19, "linear")).toBe("samples");
    expect(await at(20, "linear")).toBe("reduced");
    expect(await at(200, "relu")).toBe("samples");
    expect(await at(600, "linear", 255)).toBe("reduced");
    expect(await at(600, "linear", 256)).toBe("samples");
  });

  it("a budget below the least-squares floor is infeasible, certified, with the best-fitting sparse weights", async () => {
    const p = noisyLinear(6, 500, 20, 4, 0.3);
    const floor = leastSquaresFloor(p);
    expect(floor).toBeGreaterThan(0.05 * frobenius(p.output)); // the noise makes it a real floor
    const below = await pruneLayer(X(p), Y(p), { kind: "linear", epsilon: 0.95 * floor });
    expect(below.status).toBe("infeasible");
    expect(below.info.lowerBound).toBe(Infinity);
    const m = measure(p, below.weights, below.bias, { linear: true });
    expect(m.fit).toBeLessThanOrEqual(floor * (1 + 2e-3));
    expect(Math.abs(below.info.outputError - m.outputError)).toBeLessThanOrEqual(1e-5 * m.outputError);
    const above = await pruneLayer(X(p), Y(p), { kind: "linear", epsilon: 1.01 * floor });
    expect(above.status).toBe("solved");
    expect(measure(p, above.weights, above.bias, { linear: true }).fit).toBeLessThanOrEqual(1.01 * floor * (1 + 1e-3));
  });

  it("a warm start with the reduced form's dual finishes within one check interval", async () => {
    const p = noisyLinear(7, 1000, 40, 6, 0.05);
    const first = await pruneLayer(X(p), Y(p), { kind: "linear", epsilonGain: 0.1 });
    expect(first.dual.u1.length).toBe(41 * 6);
    const again = await pruneLayer(X(p), Y(p), {
      kind: "linear", epsilonGain: 0.1, warmStart: { weights: first.weights, bias: first.bias, dual: first.dual },
    });
    expect(again.status).toBe("solved");
    expect(again.info.iterations).toBeLessThanOrEqual(10);
    // A samples-form dual picks the samples form under auto.
    const samples = await pruneLayer(X(p), Y(p), { kind: "linear", epsilonGain: 0.1, linearForm: "samples" });
    const back = await pruneLayer(X(p), Y(p), {
      kind: "linear", epsilonGain: 0.1, warmStart: { weights: samples.weights, bias: samples.bias, dual: samples.dual },
    });
    expect(back.info.linearForm).toBe("samples");
  });

  it("no bias: the bias stays zero and the fit is measured without one", async () => {
    const p = noisyLinear(8, 600, 25, 3, 0.05);
    const r = await pruneLayer(X(p), Y(p), { kind: "linear", epsilonGain: 0.1, fitBias: false });
    expect(r.info.linearForm).toBe("reduced");
    expect([...r.bias]).toEqual([0, 0, 0]);
    const m = measure(p, r.weights, r.bias, { linear: true });
    expect(Math.abs(r.info.outputError - m.outputError)).toBeLessThanOrEqual(1e-5 * m.outputError);
  });

  describe("builds", () => {
    let scalar: Backend;
    beforeAll(async () => {
      scalar = await instantiate(await compileModule(false));
    });
    it("the SIMD and the scalar builds give the same bits", async () => {
      const p = noisyLinear(9, 1500, 45, 7, 0.05);
      const a = await pruneLayer(X(p), Y(p), { kind: "linear" });
      const b = await pruneLayerWith(scalar, X(p), Y(p), { kind: "linear" });
      expect(a.info.linearForm).toBe("reduced");
      expect(b.info.simd).toBe(false);
      expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
      expect(Buffer.from(a.bias.buffer).equals(Buffer.from(b.bias.buffer))).toBe(true);
    });
  });

  it("refuses what it cannot do, by name", async () => {
    const p = randomLayer(10, 9, 9, 2, { linear: true }); // 9 samples < inputs + 1
    await expect(pruneLayer(X(p), Y(p), { kind: "linear", linearForm: "reduced" })).rejects.toThrow(ValidationError);
    await expect(pruneLayer(X(p), Y(p), { kind: "linear", linearForm: "qr" as never })).rejects.toThrow(/options\.linearForm/);
    await expect(pruneLayerReference(X(p), Y(p), { kind: "linear", linearForm: "reduced" })).rejects.toThrow(/options\.linearForm/);
    const q = noisyLinear(11, 400, 20, 3, 0.05);
    const samples = await pruneLayer(X(q), Y(q), { kind: "linear", linearForm: "samples", maxIter: 10 });
    await expect(pruneLayer(X(q), Y(q), {
      kind: "linear", linearForm: "reduced", warmStart: { weights: samples.weights, bias: samples.bias, dual: samples.dual },
    })).rejects.toThrow(ShapeError);
  });
});
