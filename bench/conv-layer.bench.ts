// One LeNet-like conv layer (input [S, 14, 14, 16], ReLU-like with ~60% zeros; 5×5 kernel, 32
// outputs, "valid": P = S·100 rows, N̄ = 401) pruned on the same data, each path on its own wasm
// instance: the operator form with the factored W-update (C̃⁻¹ once) and with the CG W-update,
// and the im2col unrolling handed to the Dense solver (pruneLayer: sparse products, as it picks
// for this input, and dense products). Setup, time per ADMM iteration (interleaved rounds on the
// engines, median), a whole default solve (ε = 0.05·‖Y‖), CG steps per ADMM iteration, memory.
// Run: npm run bench:conv [-- --samples 1000]. Prints a table and writes
// bench/results/conv-layer-<samples>-samples-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import {
  compileModule, instantiate, matrix, pruneConvLayerWith, pruneLayerWith, tensor, type Backend, type LayerResult,
} from "../bindings/index.ts";
import { createConvEngine } from "../bindings/wasm/conv-engine.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { convBiasUnit, type ConvGeometry } from "../bindings/solver/conv-geometry.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { AdmmEngine, LayerProblem } from "../bindings/solver/engine.ts";
import { im2col, naiveConv, type ConvCase } from "../test/helpers/conv.ts";
import { gaussian } from "../test/helpers/problems.ts";

const arg = process.argv.indexOf("--samples");
const S = arg > 0 ? Number(process.argv[arg + 1]) : 1000;
const inShape = [S, 14, 14, 16];
const COUT = 32;
const conv: ConvCase = { kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" };
const g: ConvGeometry = {
  samples: S, inH: 14, inW: 14, inC: 16, outH: 10, outW: 10, outC: COUT, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 0, padLeft: 0,
};
const P = S * 100, N = 400, M = COUT;

// Data: ReLU-like inputs, a sparse "trained" kernel, the layer's ReLU output.
const rand = gaussian(9);
const input = new Float32Array(inShape.reduce((a, b) => a * b, 1)).map(() => Math.max(0, rand() - 0.25));
const pick = gaussian(10);
const kernel = new Float32Array(N * COUT).map(() => (pick() > 0.5 ? 0.1 * rand() : 0)); // ~31% nonzero
const bias = new Float32Array(COUT).map(() => 0.1 * rand());
const output = Float32Array.from(naiveConv(input, inShape, kernel, bias, COUT, conv).out, (z) => Math.max(z, 0));
let zeros = 0;
for (const v of input) if (v === 0) zeros++;

const now = () => performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, d = 1) => +x.toFixed(d);

// The unrolling, built once for the Dense solver (timed: part of that path's setup).
let t = now();
const unrolled = im2col(input, inShape, conv);
const im2colMs = now() - t;
let designZeros = 0;
for (const v of unrolled.data) if (v === 0) designZeros++;

const baseProblem = {
  P, N, M, output, upperBound: undefined, linear: false, activeThreshold: 0, fitBias: true,
};
const convProblem: LayerProblem = { ...baseProblem, input, sparse: false, biasUnit: convBiasUnit(input, g), designNonzeros: 0, form: "samples" };
const denseProblem = (sparse: boolean): LayerProblem => ({
  ...baseProblem, input: unrolled.data, sparse, biasUnit: biasUnitOf(unrolled.data, P, N), designNonzeros: unrolled.data.length - designZeros + P, form: "samples",
});

const module = await compileModule(true);
const X = tensor(input, inShape), Y = tensor(output, [S, 10, 10, COUT]);
const gain = 0.05;
interface Path {
  name: string;
  make: (b: Backend) => AdmmEngine;
  solve: (b: Backend) => Promise<LayerResult>;
  extraSetupMs: number;
  cg: boolean;
}
const operator = (wUpdate: "factored" | "cg"): Omit<Path, "name"> => ({
  make: (b) => createConvEngine(b, convProblem, g, wUpdate),
  solve: (b) => pruneConvLayerWith(b, X, Y, { kernelSize: 5, epsilonGain: gain, wUpdate }),
  extraSetupMs: 0,
  cg: wUpdate === "cg",
});
const unrolledPath = (sparse: boolean): Omit<Path, "name"> => ({
  make: (b) => createWasmEngine(b, denseProblem(sparse)),
  solve: (b) => pruneLayerWith(b, matrix(unrolled.data, P, N), matrix(output, P, M), { epsilonGain: gain, sparseInput: sparse }),
  extraSetupMs: im2colMs,
  cg: false,
});
const specs: Path[] = [
  { name: "operator form, factored W-update", ...operator("factored") },
  { name: "operator form, CG W-update", ...operator("cg") },
  { name: "im2col + Dense solver, sparse products", ...unrolledPath(true) },
  { name: "im2col + Dense solver, dense products", ...unrolledPath(false) },
];
const paths: (Path & { backend: Backend })[] = [];
for (const spec of specs) paths.push({ ...spec, backend: await instantiate(module) });

// Setup: engine creation, median of 3 (interleaved).
const setupMs = paths.map(() => [] as number[]);
for (let r = 0; r < 3; r++) {
  paths.forEach((p, k) => {
    t = now();
    p.make(p.backend).dispose();
    setupMs[k].push(now() - t);
  });
}

// Time per ADMM iteration: 8 interleaved rounds of 5 iterations on each engine (each on its own instance).
const engines = paths.map((p) => p.make(p.backend));
for (const e of engines) e.start(0.05, 1, 1.6);
const perIteration = paths.map(() => [] as number[]);
const ROUNDS = 8;
for (let r = 0; r < ROUNDS; r++) {
  engines.forEach((e, k) => {
    t = now();
    e.iterate(5, false);
    perIteration[k].push((now() - t) / 5);
  });
}
const cgStepsInRounds = paths.map((p) => (p.cg ? p.backend.exports.admmCgIterations() / (5 * ROUNDS) : NaN));

// Whole solves with default options, on the same instances (each keeps one kind of plan).
const solves: LayerResult[] = [];
const cgSteps: number[] = [];
for (const p of paths) {
  solves.push(await p.solve(p.backend));
  cgSteps.push(p.cg ? p.backend.exports.admmCgIterations() : NaN);
}

const rows = paths.map((p, k) => {
  const r = solves[k];
  return {
    path: p.name,
    "setup ms": round(median(setupMs[k]) + p.extraSetupMs),
    "ms / iteration": round(median(perIteration[k])),
    "× operator": round(median(perIteration[k]) / median(perIteration[0]), 2),
    "solve: status": r.status,
    iterations: r.info.iterations,
    "solve ms / iteration": round(r.info.solveMs / r.info.iterations),
    "total s": round(r.info.totalMs / 1000, 2),
    "‖W‖₁": round(r.info.l1Norm, 3),
    "rel. output error": round(r.info.relativeOutputError, 5),
    "kept %": round((100 * r.info.nnz) / ((N + 1) * M), 1),
    "CG steps / iteration": p.cg ? round(cgSteps[k] / r.info.iterations, 2) : "",
    "wasm MiB": round(p.backend.memory.buffer.byteLength / 2 ** 20, 0),
  };
});
console.log(
  `conv layer: input [${inShape.join(", ")}] (${round((100 * zeros) / input.length)}% zeros), 5×5 valid, ${COUT} outputs: ` +
    `P = ${P}, N̄ = ${N + 1}; im2col built in ${round(im2colMs)} ms (counted in the im2col paths' setup); ` +
    `CG steps per ADMM iteration in the timed rounds (from W = 0, tolerance 1e-2): ${round(cgStepsInRounds[1], 2)}`,
);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/conv-layer-${S}-samples-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, samples: S, P, N, M, inputZeroFraction: zeros / input.length, im2colMs,
  setupMs, perIterationMs: perIteration, cgStepsInRounds, rows,
}, null, 2));
console.log(`wrote ${file}`);
