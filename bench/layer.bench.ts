// The layer benchmark (issue 3). Run: npm run bench  (add --quick for a short smoke run).
// Measured in one run, on one thread:
//   1. our GEMM / SpMM GFLOP/s on the solver's two product shapes;
//   2. one ADMM iteration on the MNIST layer (784+1 → 300, P = 2000 and 8000) for WASM-SIMD
//      (sparse and dense products), WASM-scalar, the pure-TS reference and tfjs-backend-wasm;
//   3. solves to the default tolerance (wall time, iterations, ‖W‖₁, achieved error);
//   4. the convergence of the default solve against a long run's optimum (MNIST, P = 2000);
//   5. seeded random problems, solved by every engine.
// Prints tables and writes bench/results/layer-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { Bench } from "tinybench";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { compileModule, instantiate, matrix, pruneLayerWith, type Backend, type LayerResult } from "../bindings/index.ts";
import { solveLayer } from "../bindings/solver/prune-layer.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { createReferenceEngine } from "../bindings/reference/engine.ts";
import type { AdmmEngine, LayerProblem } from "../bindings/solver/engine.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import { createTfjsAdmm, initTfjsWasm } from "./tfjs-admm.ts";
import { randomLayer } from "../test/helpers/problems.ts";

const quick = process.argv.includes("--quick");
const GAIN = 0.05;
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick };

function problemOf(input: Float32Array, output: Float32Array, P: number, N: number, M: number, sparse: boolean): LayerProblem {
  let zeros = 0;
  for (let i = 0; i < input.length; i++) if (input[i] === 0) zeros++;
  return {
    P, N, M, input, output, upperBound: undefined, linear: false, activeThreshold: 0, sparse, fitBias: true,
    biasUnit: biasUnitOf(input, P, N), designNonzeros: input.length - zeros + P, form: "samples",
  };
}

function frob(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Median ms of one call of fn, by tinybench. */
async function timeTask(name: string, fn: () => void, opts: { iterations: number; time?: number }): Promise<number> {
  const bench = new Bench({ iterations: opts.iterations, time: opts.time ?? 0, warmupIterations: 1, warmupTime: 0 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result as unknown as { latency?: { p50?: number; mean: number }; error?: unknown };
  if (r.error) throw r.error;
  return r.latency?.p50 ?? r.latency!.mean;
}

function table(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n## ${title}`);
  console.table(rows);
}

const simd = await instantiate(await compileModule(true));
const scalar = await instantiate(await compileModule(false));

// ---------------------------------------------------------------- 1. kernel GFLOP/s
async function kernelPeak(backend: Backend, P: number, density: number) {
  const ex = backend.exports;
  const N = 785, M = 300;
  let top = ex.heapBase();
  const alloc = (bytes: number) => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    const need = top - backend.memory.buffer.byteLength;
    if (need > 0) backend.memory.grow(Math.ceil(need / 65536));
    return at;
  };
  const a = alloc(P * N * 4), b = alloc(P * M * 4), c = alloc(P * M * 4), w = alloc(N * M * 4), at = alloc(P * N * 4);
  const scratch = alloc(ex.gemmScratchBytes());
  let s = 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const av = new Float32Array(backend.memory.buffer, a, P * N);
  for (let i = 0; i < av.length; i++) av[i] = rnd() < density ? rnd() : 0;
  new Float32Array(backend.memory.buffer, b, P * M).forEach((_, i, arr) => (arr[i] = rnd()));
  new Float32Array(backend.memory.buffer, w, N * M).forEach((_, i, arr) => (arr[i] = rnd()));
  ex.transpose(P, N, a, N, at, P);
  const nnz = ex.csrCount(P, N, a, N);
  const rowA = alloc((P + 1) * 4), colA = alloc(nnz * 4), valA = alloc(nnz * 4);
  const rowT = alloc((N + 1) * 4), colT = alloc(nnz * 4), valT = alloc(nnz * 4);
  const spScratch = alloc(ex.spmmScratchBytes(Math.max(P, N)));
  ex.csrFromDense(P, N, a, N, rowA, colA, valA);
  ex.csrFromDense(N, P, at, P, rowT, colT, valT);
  const flops = 2 * P * N * M;
  const iters = quick ? 5 : 20;
  const t1 = await timeTask("gemm Xt·W", () => ex.gemm(P, M, N, a, N, w, M, c, M, 0, scratch), { iterations: iters });
  const t2 = await timeTask("gemm X·B", () => ex.gemm(N, M, P, at, P, b, M, c, M, 0, scratch), { iterations: iters });
  const t3 = await timeTask("spmm Xt·W", () => ex.spmmPacked(P, M, N, rowA, colA, valA, w, M, c, M, spScratch), { iterations: iters });
  const t4 = await timeTask("spmm X·B", () => ex.spmmPacked(N, M, P, rowT, colT, valT, b, M, c, M, spScratch), { iterations: iters });
  return {
    build: backend.simd ? "simd" : "scalar", P, density,
    gemmXtW_GFLOPs: flops / t1 / 1e6, gemmXB_GFLOPs: flops / t2 / 1e6,
    spmmXtW_effective_GFLOPs: flops / t3 / 1e6, spmmXB_effective_GFLOPs: flops / t4 / 1e6,
  };
}
const kernels = [await kernelPeak(simd, 2000, 0.2), await kernelPeak(simd, 2000, 1.0), await kernelPeak(scalar, 2000, 1.0)];
table("Kernel throughput, 785×300 products at P = 2000 (effective GFLOP/s counts the dense 2·N̄·M·P)", kernels);
results.kernels = kernels;
const gemmPeak = Math.max(kernels[1].gemmXtW_GFLOPs, kernels[1].gemmXB_GFLOPs);

// ---------------------------------------------------------------- 2. one iteration
const iterationRows: Record<string, unknown>[] = [];
const sizes = quick ? [2000] : [2000, 8000];
const layers = new Map<number, ReturnType<typeof mnistLayerProblem>>();
for (const P of sizes) {
  const pr = mnistLayerProblem(P);
  layers.set(P, pr);
  const N = 784, M = 300;
  const eps = GAIN * frob(pr.output);
  const flops = 4 * (N + 1) * M * P + 2 * (N + 1) * (N + 1) * M;
  const rho = 100;
  const engines: [string, () => AdmmEngine, number][] = [
    ["wasm-simd (sparse products)", () => createWasmEngine(simd, problemOf(pr.input, pr.output, P, N, M, true)), 10],
    ["wasm-simd (dense products)", () => createWasmEngine(simd, problemOf(pr.input, pr.output, P, N, M, false)), 10],
    ["wasm-scalar (sparse products)", () => createWasmEngine(scalar, problemOf(pr.input, pr.output, P, N, M, true)), 5],
    ["pure TS (float64 loops skipping zero inputs)", () => createReferenceEngine(problemOf(pr.input, pr.output, P, N, M, false)), quick ? 1 : 5],
    ["plain TS (float64 dense loops)", () => createReferenceEngine(problemOf(pr.input, pr.output, P, N, M, false), { skipZeros: false }), quick ? 1 : 3],
  ];
  for (const [name, make, iterations] of engines) {
    const t0 = performance.now();
    const engine = make();
    const setupMs = performance.now() - t0;
    engine.start(eps, rho, 1.6);
    const ms = await timeTask(name, () => engine.iterate(1, false), { iterations });
    engine.dispose();
    iterationRows.push({ P, engine: name, setupMs, msPerIteration: ms, GFLOPs: flops / ms / 1e6, shareOfGemmPeak: flops / ms / 1e6 / gemmPeak });
  }
  const tf = await initTfjsWasm();
  const t0 = performance.now();
  const tfAdmm = createTfjsAdmm(pr.input, P, N, pr.output, M, eps, rho, 1.6);
  const setupMs = performance.now() - t0;
  const ms = await timeTask("tfjs", () => tfAdmm.iterate(1), { iterations: 10 });
  tfAdmm.dispose();
  iterationRows.push({ P, engine: `tfjs-backend-wasm (simd ${tf.simd}, threads ${tf.threads})`, setupMs, msPerIteration: ms, GFLOPs: flops / ms / 1e6, shareOfGemmPeak: flops / ms / 1e6 / gemmPeak });
}
for (const P of sizes) {
  const rows = iterationRows.filter((r) => r.P === P);
  const ours = rows[0].msPerIteration as number;
  for (const r of rows) r.speedupOfWasmSimd = (r.msPerIteration as number) / ours;
}
table("One ADMM iteration, MNIST layer 1 (785 → 300), single thread", iterationRows);
results.iteration = iterationRows;

// ---------------------------------------------------------------- 3. solves to tolerance
function summary(name: string, P: number, r: LayerResult, maxY: number) {
  return {
    P, engine: name, status: r.status, iterations: r.info.iterations, totalMs: r.info.totalMs, setupMs: r.info.setupMs,
    l1: r.info.l1Norm, nnz: r.info.nnz, relOutputError: r.info.relativeOutputError,
    fitOverEps: r.info.fitError / r.info.epsilon, leakOverMaxY: r.info.leakage / maxY,
    lowerBound: r.info.lowerBound, relGap: r.info.relativeGap, rhoInitial: r.info.rhoInitial, rho: r.info.rho,
  };
}
const solveRows: Record<string, unknown>[] = [];
for (const P of sizes) {
  const pr = layers.get(P)!;
  const X = matrix(pr.input, P, 784), Y = matrix(pr.output, P, 300);
  const maxY = pr.output.reduce((m, v) => Math.max(m, v), 0);
  const a = await pruneLayerWith(simd, X, Y, { epsilonGain: GAIN });
  solveRows.push(summary("wasm-simd", P, a, maxY));
  const b = await pruneLayerWith(scalar, X, Y, { epsilonGain: GAIN });
  solveRows.push(summary("wasm-scalar", P, b, maxY));
  // Pure TS and tfjs at the same iteration count, from their measured per-iteration time.
  for (const r of iterationRows.filter((row) => row.P === P && !(row.engine as string).startsWith("wasm"))) {
    solveRows.push({ P, engine: `${r.engine} (estimated: setup + ${a.info.iterations} × iteration)`, iterations: a.info.iterations, totalMs: (r.setupMs as number) + a.info.iterations * (r.msPerIteration as number) });
  }
}
table(`Solve to the default tolerance (ε = ${GAIN}·‖Y‖_F, default options)`, solveRows);
results.solve = solveRows;

// ---------------------------------------------------------------- 4. convergence against the optimum
{
  const P = 2000;
  const pr = layers.get(P)!;
  const X = matrix(pr.input, P, 784), Y = matrix(pr.output, P, 300);
  const maxY = pr.output.reduce((m, v) => Math.max(m, v), 0);
  const long = await pruneLayerWith(simd, X, Y, { epsilonGain: GAIN, relTol: 1e-6, dualRelTol: 1e-6, maxIter: quick ? 300 : 3000, checkInterval: 50 });
  const reference = Math.min(long.info.l1Norm);
  const trace: Record<string, unknown>[] = [];
  let firstHit: number | null = null;
  for (const k of quick ? [40, 80] : [20, 40, 60, 80, 100, 120, 150, 200, 300]) {
    // Default options, capped at k iterations (a solve that stops earlier reports its stop).
    const r = await pruneLayerWith(simd, X, Y, { epsilonGain: GAIN, maxIter: k });
    const fitOk = r.info.fitError <= r.info.epsilon * (1 + 1e-3);
    const leakOk = r.info.leakage <= 1e-3 * maxY;
    const l1Ok = r.info.l1Norm <= 1.01 * reference;
    if (fitOk && leakOk && l1Ok && firstHit === null) firstHit = r.info.iterations;
    trace.push({ maxIter: k, iterations: r.info.iterations, status: r.status, l1OverReference: r.info.l1Norm / reference, fitOverEps: r.info.fitError / r.info.epsilon, leakOverMaxY: r.info.leakage / maxY, meetsTarget: fitOk && leakOk && l1Ok, rho: r.info.rho });
  }
  table(`Default-option convergence, MNIST P = 2000, against a ${long.info.iterations}-iteration run (‖W‖₁ = ${reference.toFixed(2)}, certified lower bound ${long.info.lowerBound.toFixed(2)})`, trace);
  console.log(`first checked iteration meeting ‖W‖₁ ≤ 1.01·reference, fit ≤ ε(1+1e-3), leakage ≤ 1e-3·max Y: ${firstHit ?? "none"}`);
  results.convergence = { reference, referenceIterations: long.info.iterations, referenceLowerBound: long.info.lowerBound, trace, firstHit };
}

// ---------------------------------------------------------------- 5. seeded random problems
{
  const rows: Record<string, unknown>[] = [];
  for (const [seed, P, N, M] of quick ? [[1, 300, 60, 30]] : [[1, 500, 100, 50], [2, 1000, 200, 100]]) {
    const p = randomLayer(seed, P, N, M);
    const X = matrix(p.input, P, N), Y = matrix(p.output, P, M);
    const maxY = p.output.reduce((m, v) => Math.max(m, v), 0);
    rows.push(summary(`wasm-simd seed ${seed}`, P, await pruneLayerWith(simd, X, Y, { epsilonGain: GAIN }), maxY));
    rows.push(summary(`wasm-scalar seed ${seed}`, P, await pruneLayerWith(scalar, X, Y, { epsilonGain: GAIN }), maxY));
    rows.push(summary(`pure TS seed ${seed}`, P, await solveLayer(X, Y, { epsilonGain: GAIN }, createReferenceEngine), maxY));
  }
  table("Seeded random relu layers (Gaussian inputs, 30% dense weights)", rows);
  results.random = rows;
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(`./results/layer-${quick ? "quick-" : ""}${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nwrote ${file.pathname}`);
