// The WebAssembly ADMM loop pinned to the float64 reference engine, iterate by iterate: both
// engines set up the same problem, start from the same ρ and take the same iterations with no
// controller in between; W2, U1, U2, the statistics and the measurements must agree to f32
// precision (1e-4 relative) after 1, 5, 20 and 60 iterations, on the SIMD and the scalar build, with dense and
// sparse products, relu (with and without V) and linear layers; and with the Woodbury W-update
// (K = (I + XᵀX)⁻¹, P < N̄) against the reference's factored one.
import { beforeAll, describe, expect, it } from "vitest";
import { compileModule, instantiate, type Backend } from "../bindings/index.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { createReferenceEngine } from "../bindings/reference/engine.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { AdmmEngine, LayerProblem } from "../bindings/solver/engine.ts";
import { randomLayer, relDiff } from "./helpers/problems.ts";

function problemOf(
  seed: number, P: number, N: number, M: number, kind: "relu" | "relu+V" | "linear", sparse: boolean, wUpdate: "factored" | "woodbury" = "factored",
): LayerProblem {
  const p = randomLayer(seed, P, N, M, { linear: kind === "linear", zeroInputs: sparse ? 0.6 : 0 });
  let zeros = 0;
  for (const x of p.input) if (x === 0) zeros++;
  const upperBound = kind === "relu+V" ? p.output.map((y, i) => (y > 0 ? 0 : 0.05 * ((i % 7) - 3))) : undefined;
  return {
    P, N, M, input: p.input, output: p.output, upperBound, linear: kind === "linear", activeThreshold: 0,
    sparse, fitBias: true, biasUnit: biasUnitOf(p.input, P, N), designNonzeros: p.input.length - zeros + P, form: "samples", wUpdate,
  };
}


function compare(wasm: AdmmEngine, ref: AdmmEngine, tol: number): void {
  expect(relDiff(wasm.readW2(), ref.readW2())).toBeLessThan(tol);
  const dw = wasm.readDual(), dr = ref.readDual();
  expect(relDiff(dw.u1, dr.u1)).toBeLessThan(tol);
  expect(relDiff(dw.u2, dr.u2)).toBeLessThan(tol);
  const sw = wasm.stats(), sr = ref.stats();
  for (const k of ["w2", "z", "w3", "u1", "u2"] as const) expect(Math.abs(sw[k] - sr[k])).toBeLessThanOrEqual(tol * Math.max(sr[k], 1e-12));
  const mw = wasm.measureW2(), mr = ref.measureW2();
  expect(Math.abs(mw.fitError - mr.fitError)).toBeLessThanOrEqual(tol * Math.max(mr.fitError, 1e-6));
  expect(Math.abs(mw.outputError - mr.outputError)).toBeLessThanOrEqual(tol * Math.max(mr.outputError, 1e-6));
}

describe.each([true, false])("the wasm loop (SIMD build: %s) against the reference engine", (simd) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await instantiate(await compileModule(simd));
  });

  it.each([
    [1, 120, 17, 5, "relu", false, "factored"],
    [2, 90, 33, 7, "relu", true, "factored"],
    [3, 150, 12, 3, "relu+V", false, "factored"],
    [4, 100, 21, 4, "linear", true, "factored"],
    [5, 30, 80, 5, "relu", false, "woodbury"],
    [6, 25, 61, 4, "relu", true, "woodbury"],
    [7, 40, 90, 3, "relu+V", true, "woodbury"],
    [8, 30, 70, 4, "linear", false, "woodbury"],
  ] as const)("seed %i: P %i, N %i, M %i, %s, sparse %s, %s — same iterates after 1, 5, 20, 60 iterations", (seed, P, N, M, kind, sparse, wUpdate = "factored") => {
    const problem = problemOf(seed, P, N, M, kind, sparse, wUpdate);
    const wasm = createWasmEngine(backend, problem);
    const ref = createReferenceEngine(problem);
    expect(wasm.simd).toBe(simd);
    expect(wasm.scale).toBeCloseTo(ref.scale, 4);
    const rho = 1 / ref.leastSquares().rms;
    expect(1 / wasm.leastSquares().rms).toBeCloseTo(rho, 3);
    const epsilon = 0.05 * Math.sqrt(problem.output.reduce((s, v) => s + v * v, 0));
    wasm.start(epsilon, rho, 1.6);
    ref.start(epsilon, rho, 1.6);
    let done = 0;
    for (const at of [1, 5, 20, 60]) {
      wasm.iterate(at - done, true);
      ref.iterate(at - done, true);
      done = at;
      // f32 storage against f64: measured gaps: iterates below 1.5e-5 relative, sums of squares and measures below 6.1e-5.
      compare(wasm, ref, 1e-4);
    }
    // ρ changes mid-run take the same effect in both.
    wasm.setRho(rho * 3);
    ref.setRho(rho * 3);
    wasm.iterate(10, true);
    ref.iterate(10, true);
    compare(wasm, ref, 1e-4);
    expect(wasm.dualBound(epsilon)).toBeCloseTo(ref.dualBound(epsilon), 2);
  });
});
