// Iteratively reweighted ℓ1 (options.reweight): the weighted soft threshold in the wasm loop
// pinned to the float64 reference engine, the same bits on the SIMD, scalar and threaded builds,
// the weighted program's optimum against an independent algorithm (PDHG), fewer weights at the
// same budget measured on the returned weights, the reduced form, pruneNetwork, validation.
import { beforeAll, describe, expect, it } from "vitest";
import {
  compileModule, instantiate, matrix, openLayerSession, pruneConvLayer, pruneLayer, pruneLayerWith, pruneNetwork,
  tensor, ValidationError, type Backend, type LayerResult,
} from "../bindings/index.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { createReferenceEngine } from "../bindings/reference/engine.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";
import { biasUnit, frobenius, measure, randomLayer, relDiff, rng, seededNetwork } from "./helpers/problems.ts";
import { pdhg } from "./helpers/pdhg.ts";

const X = (p: { input: Float32Array; P: number; N: number }) => matrix(p.input, p.P, p.N);
const Y = (p: { output: Float32Array; P: number; M: number }) => matrix(p.output, p.P, p.M);
const bytes = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/**
 * The ℓ1 weights of a round, written here from the documented rule: c = κ/(|w̄| + δ) on the
 * engine's variables w̄ = [W; b/u], δ = delta × mean |w̄| over the nonzeros, κ with Σc|w̄| = Σ|w̄|.
 */
function l1WeightsOf(r: LayerResult, N: number, M: number, unit: number, delta: number): Float64Array {
  const w = new Float64Array((N + 1) * M);
  w.set(r.weights);
  for (let m = 0; m < M; m++) w[N * M + m] = r.bias[m] / unit;
  const nz = [...w].filter((v) => v !== 0).map(Math.abs);
  const sum = nz.reduce((s, v) => s + v, 0);
  const d = (delta * sum) / nz.length;
  const kappa = sum / [...w].reduce((s, v) => s + Math.abs(v) / (Math.abs(v) + d), 0);
  // Stored f32 in the solver.
  return Float64Array.from(Float32Array.from(w, (v) => kappa / (Math.abs(v) + d)));
}

describe.each([true, false])("the weighted soft threshold in the wasm loop (SIMD build: %s) against the reference engine", (simd) => {
  // Two instances: an engine lays out its buffers in its instance's memory and configures its loop.
  let backend: Backend, other: Backend;
  beforeAll(async () => {
    backend = await instantiate(await compileModule(simd));
    other = await instantiate(await compileModule(simd));
  });

  it.each([
    [31, 120, 17, 5, false, false],
    [32, 90, 33, 7, false, true],
    [33, 100, 21, 4, true, false],
  ] as const)("seed %i: P %i, N %i, M %i, linear %s, sparse %s — same iterates after 1, 5, 20, 60 iterations", (seed, P, N, M, linear, sparse) => {
    const p = randomLayer(seed, P, N, M, { linear, zeroInputs: sparse ? 0.6 : 0 });
    let zeros = 0;
    for (const x of p.input) if (x === 0) zeros++;
    const problem: LayerProblem = {
      P, N, M, input: p.input, output: p.output, upperBound: undefined, linear, activeThreshold: 0, sparse, fitBias: true,
      biasUnit: biasUnitOf(p.input, P, N), designNonzeros: p.input.length - zeros + P, form: "samples", l1Weighted: true,
    };
    const u = rng(seed + 100);
    // Weights from 0.1 to 10 (log-uniform): thresholds on both sides of the entries.
    const c = new Float32Array((N + 1) * M).map(() => Math.exp((u() - 0.5) * 2 * Math.log(10)));
    const wasm = createWasmEngine(backend, problem), ref = createReferenceEngine(problem);
    const plain = createWasmEngine(other, { ...problem, l1Weighted: false });
    expect(plain.setL1Weights).toBeUndefined();
    wasm.setL1Weights!(c);
    ref.setL1Weights!(c);
    const rho = 1 / ref.leastSquares().rms;
    const epsilon = 0.05 * frobenius(p.output);
    for (const e of [wasm, ref, plain]) e.start(epsilon, rho, 1.6);
    let done = 0;
    for (const at of [1, 5, 20, 60]) {
      for (const e of [wasm, ref, plain]) e.iterate(at - done, true);
      done = at;
      expect(relDiff(wasm.readW2(), ref.readW2())).toBeLessThan(1e-4);
      expect(relDiff(wasm.readDual().u1, ref.readDual().u1)).toBeLessThan(1e-4);
      expect(relDiff(wasm.readDual().u2, ref.readDual().u2)).toBeLessThan(1e-4);
    }
    // The weights change the iterates (a loop that ignored them would match the plain one).
    expect(relDiff(wasm.readW2(), plain.readW2())).toBeGreaterThan(0.01); // measured: 0.04–0.2
    // The weighted certificate agrees, and differs from the plain one computed on the same dual.
    const bw = wasm.dualBound(epsilon), br = ref.dualBound(epsilon);
    expect(Math.abs(bw - br)).toBeLessThanOrEqual(1e-3 * Math.abs(br));
    // Back to all ones: the plain program's threshold (same bits as an unweighted engine from the same start).
    wasm.setL1Weights!(undefined);
    wasm.start(epsilon, rho, 1.6);
    plain.start(epsilon, rho, 1.6);
    wasm.iterate(20, true);
    plain.iterate(20, true);
    expect(bytes(wasm.readW2())).toEqual(bytes(plain.readW2()));
  });
});

describe("pruneLayer({reweight})", () => {
  it("fewer nonzeros than the plain solve at the same budget, measured on the returned weights", async () => {
    const p = randomLayer(41, 400, 60, 8, { density: 0.3 });
    const epsilon = 0.1 * frobenius(p.output);
    const plain = await pruneLayer(X(p), Y(p), { epsilon });
    const r = await pruneLayer(X(p), Y(p), { epsilon, reweight: { rounds: 3 } });
    expect(plain.status).toBe("solved");
    expect(r.status).toBe("solved");
    const rw = r.info.reweight!;
    expect(rw.rounds.length).toBe(4);
    // Round 0 is the plain solve.
    expect(rw.rounds[0].nnz).toBe(plain.info.nnz);
    expect(rw.rounds[0].iterations).toBe(plain.info.iterations);
    expect(rw.rounds[0].delta).toBe(0);
    const m = measure(p, r.weights, r.bias);
    expect(m.nnz).toBe(r.info.nnz);
    expect(m.nnz).toBe(rw.rounds[rw.returned].nnz);
    // Measured here on the seeded layer: 178 → 123 (−31%); the test asks for −20%.
    expect(m.nnz).toBeLessThan(0.8 * plain.info.nnz);
    // The budget, recomputed from the returned weights.
    expect(m.outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
    expect(Math.abs(m.outputError / frobenius(p.output) - r.info.relativeOutputError)).toBeLessThan(1e-5);
    expect(Math.abs(m.l1 - r.info.l1Norm)).toBeLessThan(1e-5 * m.l1);
    expect(r.info.iterations).toBe(rw.rounds.reduce((s, x) => s + x.iterations, 0));
    // The returned round's objective Σc|w̄| (c recomputed here from the previous round) and its certificate.
    const previous = await pruneLayer(X(p), Y(p), { epsilon, reweight: { rounds: rw.returned - 1 } });
    const c = l1WeightsOf(previous, p.N, p.M, biasUnit(p.input, p.P, p.N), 0.1);
    const w = [...r.weights, ...[...r.bias].map((b) => b / biasUnit(p.input, p.P, p.N))];
    const objective = w.reduce((s, v, i) => s + c[i] * Math.abs(v), 0);
    expect(Math.abs(objective - rw.rounds[rw.returned].objective)).toBeLessThan(1e-5 * objective);
    expect(r.info.lowerBound).toBe(rw.rounds[rw.returned].lowerBound);
    expect(r.info.optimalityGap).toBeCloseTo(objective - r.info.lowerBound, 4);
    expect(r.info.relativeGap).toBeLessThan(0.1);
    expect(r.info.lowerBound).toBeLessThanOrEqual(objective * (1 + 1e-3));
  });

  it.each([
    ["relu", randomLayer(42, 120, 15, 4), false],
    ["linear", randomLayer(43, 100, 12, 3, { linear: true }), true],
  ] as const)("%s layer: the weighted program's objective agrees with a 10,000-iteration PDHG run on the same weights", async (_, p, linear) => {
    const epsilon = 0.05 * frobenius(p.output);
    const kind = linear ? "linear" as const : "relu" as const;
    const tight = { kind, epsilon, relTol: 1e-5, dualRelTol: 1e-4, maxIter: 20000, linearForm: linear ? "samples" as const : undefined };
    const first = await pruneLayer(X(p), Y(p), tight);
    const r = await pruneLayer(X(p), Y(p), { ...tight, reweight: { rounds: 1, delta: 0.3 } });
    expect(r.status).toBe("solved");
    expect(r.info.reweight!.returned).toBe(1);
    const c = l1WeightsOf(first, p.N, p.M, biasUnit(p.input, p.P, p.N), 0.3);
    // 10,000 steps: both runs are at PDHG's fixed point by then, the 30,000-step run's bits (measured:
    // from step 7,250 on for relu, 250 for linear).
    const oracle = pdhg({ ...p, epsilon, linear, l1Weights: c }, 10_000);
    const om = measure(p, oracle.weights, oracle.bias, { linear });
    expect(om.fit).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
    const objective = r.info.reweight!.rounds[1].objective;
    // Measured: 2e-5 (relu), 1e-6 (linear).
    expect(Math.abs(objective - oracle.objective)).toBeLessThanOrEqual(2e-4 * oracle.objective);
    // Weak duality for the weighted program, against its optimum.
    expect(r.info.lowerBound).toBeLessThanOrEqual(oracle.objective * (1 + 1e-5));
    expect(r.info.lowerBound).toBeGreaterThan(0.99 * oracle.objective);
  });

  it("the same bits on the SIMD, scalar and threaded builds", async () => {
    const p = randomLayer(44, 250, 33, 7);
    const o = { epsilonGain: 0.1, reweight: { rounds: 2 } };
    const a = await pruneLayer(X(p), Y(p), o);
    const b = await pruneLayerWith(await instantiate(await compileModule(false)), X(p), Y(p), o);
    const t = await pruneLayer(X(p), Y(p), { ...o, threads: 2 });
    expect(b.info.simd).toBe(false);
    expect(t.info.threads).toBe(2);
    for (const other of [b, t]) {
      expect(other.status).toBe(a.status);
      expect(other.info.iterations).toBe(a.info.iterations);
      expect(other.info.reweight!.rounds.map((x) => x.nnz)).toEqual(a.info.reweight!.rounds.map((x) => x.nnz));
      expect(bytes(other.weights)).toEqual(bytes(a.weights));
      expect(bytes(other.bias)).toEqual(bytes(a.bias));
      expect(bytes(other.dual.u2)).toEqual(bytes(a.dual.u2));
    }
  });

  it("a linear layer in the reduced form: fewer nonzeros, the budget met on the samples", async () => {
    const p = randomLayer(45, 600, 40, 6, { linear: true, density: 0.3 });
    const epsilon = 0.1 * frobenius(p.output);
    const plain = await pruneLayer(X(p), Y(p), { kind: "linear", epsilon });
    const r = await pruneLayer(X(p), Y(p), { kind: "linear", epsilon, reweight: { rounds: 2 } });
    expect(r.info.linearForm).toBe("reduced");
    expect(r.status).toBe("solved");
    const m = measure(p, r.weights, r.bias, { linear: true });
    expect(m.nnz).toBeLessThan(plain.info.nnz);
    expect(m.outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
  });

  it("refuses bad fields, naming the field, the expected and the received value", async () => {
    const p = randomLayer(46, 30, 5, 2);
    const bad: [unknown, string][] = [
      [3, "options.reweight"], [{ rounds: -1 }, "options.reweight.rounds"], [{ rounds: 1.5 }, "options.reweight.rounds"],
      [{ rounds: 21 }, "options.reweight.rounds"], [{}, "options.reweight.rounds"], [{ rounds: 1, delta: 0 }, "options.reweight.delta"],
      [{ rounds: 1, delta: Infinity }, "options.reweight.delta"], [{ rounds: 1, detla: 0.1 }, "options.reweight.detla"],
    ];
    for (const [value, field] of bad) {
      await expect(pruneLayer(X(p), Y(p), { reweight: value as never })).rejects.toThrow(ValidationError);
      await expect(pruneLayer(X(p), Y(p), { reweight: value as never })).rejects.toThrow(field);
    }
    await expect(pruneLayer(X(p), Y(p), { reweight: { rounds: 21 } })).rejects.toThrow(/an integer from 0 to 20.*21/s);
  });

  it("an abort during a later round returns the last round that met the budget, and says so", async () => {
    const p = randomLayer(49, 400, 60, 8, { density: 0.3 });
    const epsilon = 0.1 * frobenius(p.output);
    const controller = new AbortController();
    let seen = 0;
    const r = await pruneLayer(X(p), Y(p), {
      epsilon, reweight: { rounds: 3 }, signal: controller.signal,
      // Progress restarts its iteration count with each round: abort in the first round after round 0.
      onProgress: (q) => { if (q.iteration <= seen) controller.abort(); seen = q.iteration; },
    });
    const rw = r.info.reweight!;
    expect(rw.rounds.at(-1)!.status).toBe("aborted");
    expect(rw.rounds.length).toBeGreaterThan(1);
    expect(rw.rounds.length).toBeLessThan(4);
    expect(rw.returned).toBeLessThan(rw.rounds.length - 1);
    expect(r.status).toBe("solved");
    const m = measure(p, r.weights, r.bias);
    expect(m.nnz).toBe(rw.rounds[rw.returned].nnz);
    expect(m.outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
  });

  it("rounds 0 is the plain solve; a session must be opened with it; a conv layer checks it as a Dense one", async () => {
    const p = randomLayer(47, 200, 20, 4);
    const plain = await pruneLayer(X(p), Y(p));
    const zero = await pruneLayer(X(p), Y(p), { reweight: { rounds: 0 } });
    expect(bytes(zero.weights)).toEqual(bytes(plain.weights));
    expect(zero.info.reweight).toBeUndefined();
    const session = await openLayerSession(X(p), Y(p));
    try {
      await expect(session.solve({ reweight: { rounds: 1 } })).rejects.toThrow("options.reweight");
    } finally {
      session.close();
    }
    const weighted = await openLayerSession(X(p), Y(p), { reweight: { rounds: 1 } });
    try {
      const r = await weighted.solve({ epsilonGain: 0.1 });
      expect(r.info.reweight!.rounds.length).toBe(2);
    } finally {
      weighted.close();
    }
    const img = tensor(new Float32Array(2 * 4 * 4), [2, 4, 4, 1]);
    await expect(pruneConvLayer(img, tensor(new Float32Array(2 * 4 * 4), [2, 4, 4, 1]), { kernelSize: 1, reweight: { rounds: 1, delta: 0 } }))
      .rejects.toThrow("options.reweight.delta");
  });
});

describe("pruneNetwork passes layerOptions.reweight to every layer", () => {
  it.each(["parallel", "cascade"] as const)("%s: fewer nonzeros per layer, every layer within its budget", async (mode) => {
    const { network, input } = seededNetwork(48, [30, 20, 10, 4], 300);
    const X0 = matrix(input, 300, 30);
    // Plain ℓ1 asked for by name (it is also the default).
    const plain = await pruneNetwork(network, X0, { mode, epsilonGain: 0.1, workers: mode === "parallel" ? 2 : undefined, layerOptions: { reweight: { rounds: 0 } } });
    const r = await pruneNetwork(network, X0, { mode, epsilonGain: 0.1, workers: mode === "parallel" ? 2 : undefined, layerOptions: { reweight: { rounds: 2 } } });
    expect(r.status).toBe("solved");
    let fewer = 0;
    for (let i = 0; i < r.layers.length; i++) {
      const l = r.layers[i];
      expect(l.info.reweight!.rounds.length).toBeGreaterThan(1);
      expect(l.nnzAfter).toBe(l.info.reweight!.rounds[l.info.reweight!.returned].nnz);
      expect(l.nnzAfter).toBeLessThanOrEqual(l.info.reweight!.rounds[0].nnz);
      if (l.nnzAfter < plain.layers[i].nnzAfter) fewer++;
    }
    expect(fewer).toBeGreaterThanOrEqual(2);
  });

  it("with a density target: every probe reweighted, the density reached", async () => {
    const { network, input } = seededNetwork(50, [30, 20, 10, 4], 300);
    const r = await pruneNetwork(network, matrix(input, 300, 30), { density: 0.3, layerOptions: { reweight: { rounds: 1 } } });
    for (const l of r.layers) {
      expect(l.info.reweight!.rounds.length).toBe(2);
      expect(Math.abs(l.keptFraction - 0.3)).toBeLessThanOrEqual(0.05 * 0.3 + 1 / l.parameters);
    }
  });
});
