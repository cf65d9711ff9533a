// Where one ADMM iteration's time goes, MNIST layer 1 (784 + bias → 300): the three products
// (X·B, C̃⁻¹·D, Xt·W3) timed on their own, on the engine's own buffers, and the rest (the five
// fused elementwise passes) as the difference. X·B is also timed with B packed in one panel of all
// P rows (session 5's spmmPacked, same bits) against the panels of 512 rows used now (Xt·W3, k = N̄ = 785, stays one panel), and the
// setup Gram X·Xᵀ (full product, k = P) likewise. Run: npm run bench:profile [-- --samples
// 2000,8000,20000] [--suffix -s6]. Prints a table and writes
// bench/results/iteration-profile-<date><suffix>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Bench } from "tinybench";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { bufferSizes, inputOverlay, layout } from "../bindings/wasm/memory-plan.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { instantiateReference } from "../test/helpers/reference-wasm.ts";

const i = process.argv.indexOf("--samples");
const sizes = (i > 0 ? process.argv[i + 1] : "2000,8000").split(",").map(Number);
const s = process.argv.indexOf("--suffix");
const suffix = s > 0 ? process.argv[s + 1] : "";
// The reference build: the solver's kernels (the same source and options as the shipped SIMD
// build) and spmmPackedBlocked, on one memory.
const backend = await instantiateReference();
const ex = backend.exports;
const rows: Record<string, unknown>[] = [];
const panels: Record<string, unknown>[] = [];

/** Median CPU milliseconds of each task, the tasks run in turn `rounds` times after one warm-up. */
function alternatedCpuMs(tasks: (() => void)[], rounds: number): number[] {
  const times = tasks.map(() => [] as number[]);
  for (let r = -1; r < rounds; r++) {
    tasks.forEach((task, i) => {
      const start = process.cpuUsage();
      task();
      const used = process.cpuUsage(start);
      if (r >= 0) times[i].push((used.user + used.system) / 1000);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

const median = (t: { result: unknown }) => {
  const r = t.result as { latency?: { p50?: number; mean: number } };
  return r.latency?.p50 ?? r.latency?.mean ?? NaN;
};

const MNIST_SAMPLES = 8000; // bundled with the examples

/** MNIST layer 1 on P samples; above the bundled 8000, the samples repeated (the same sparsity). */
function layerProblem(P: number) {
  if (P <= MNIST_SAMPLES) return mnistLayerProblem(P);
  const pr = mnistLayerProblem(MNIST_SAMPLES);
  const input = new Float32Array(P * pr.N), output = new Float32Array(P * pr.M);
  for (let p = 0; p < P; p++) {
    const q = p % MNIST_SAMPLES;
    input.set(pr.input.subarray(q * pr.N, (q + 1) * pr.N), p * pr.N);
    output.set(pr.output.subarray(q * pr.M, (q + 1) * pr.M), p * pr.M);
  }
  return { ...pr, P, input, output };
}

for (const P of sizes) {
  const pr = layerProblem(P);
  let zeros = 0;
  for (const v of pr.input) if (v === 0) zeros++;
  const problem: LayerProblem = {
    P, N: pr.N, M: pr.M, input: pr.input, output: pr.output, upperBound: undefined, linear: false, activeThreshold: 0,
    sparse: true, fitBias: true, biasUnit: biasUnitOf(pr.input, P, pr.N), designNonzeros: pr.input.length - zeros + P, form: "samples",
  };
  const engine = createWasmEngine(backend, problem);
  engine.start(0.05, 1, 1.6);
  engine.iterate(5, false);
  // The engine's buffers, from the same plan it laid out (same sizes, same base).
  const NB = pr.N + 1, M = pr.M;
  const plan = layout(ex.heapBase() >>> 0, bufferSizes(problem, ex.gemmScratchBytes(), ex.spmmScratchBytes(Math.max(P, NB)), ex.admmSumsBytes(P, NB)), inputOverlay(problem));
  const o = plan.offsets;
  // Room after the plan for a whole-P panel (the session-5 kernel) and a Gram matrix.
  const wholePanel = Math.ceil(plan.end / 64) * 64, gram = wholePanel + P * 96;
  const grow = gram + NB * NB * 4 - backend.memory.buffer.byteLength;
  if (grow > 0) backend.memory.grow(Math.ceil(grow / 65536));
  const bench = new Bench({ iterations: 10, time: 0, warmupIterations: 2 });
  bench
    .add("whole iteration", () => engine.iterate(1, false))
    .add("X·B (SpMM, N̄×P by P×M)", () => ex.productXB(o.b, o.d))
    .add("C̃⁻¹·D (GEMM, N̄×N̄ by N̄×M)", () => ex.gemm(NB, M, NB, o.cinv, NB, o.d, M, o.e, M, 0, o.scratch))
    .add("Xt·W3 (SpMM, P×N̄ by N̄×M)", () => ex.productXtW(ex.admmW3Pointer() >>> 0, ex.admmFreeOutputPointer() >>> 0));
  await bench.run();
  // Old against new, alternated and in CPU time: on a shared, loaded machine the wall time of
  // two tasks run one after the other differs by more than the kernels do.
  // Xt·W3 (k = N̄ = 785) is packed in two pieces now: timed both ways too.
  const w3 = ex.admmW3Pointer() >>> 0, zFree = ex.admmFreeOutputPointer() >>> 0;
  const [xbWhole, xbNow, xtwWhole, xtwNow, iterationNow] = alternatedCpuMs([
    () => ex.spmmPackedBlocked(NB, M, P, o.xRow, o.xCol, o.xVal, o.b, M, o.d, M, wholePanel, P),
    () => ex.productXB(o.b, o.d),
    () => ex.spmmPackedBlocked(P, M, NB, o.xtRow, o.xtCol, o.xtVal, w3, M, zFree, M, wholePanel, NB),
    () => ex.productXtW(w3, zFree),
    () => engine.iterate(1, false),
  ], 15);
  const [gramWhole, gramNew] = alternatedCpuMs([
    () => ex.spmmPackedBlocked(NB, NB, P, o.xRow, o.xCol, o.xVal, o.xt, NB, gram, NB, wholePanel, P),
    () => ex.spmmPacked(NB, NB, P, o.xRow, o.xCol, o.xVal, o.xt, NB, gram, NB, o.spmmScratch),
  ], 5);
  const [whole, xb, cinv, xtw] = bench.tasks.map(median);
  const passes = whole - xb - cinv - xtw;
  for (const [part, ms] of [["whole iteration", whole], ["X·B", xb], ["C̃⁻¹·D", cinv], ["Xt·W3", xtw], ["elementwise passes (the rest)", passes]] as const) {
    rows.push({ P, part, "median ms": +ms.toFixed(2), "share %": +((100 * ms) / whole).toFixed(1) });
  }
  panels.push({
    P, "X·B cpu ms, one panel": +xbWhole.toFixed(2), "X·B cpu ms, now": +xbNow.toFixed(2), "X·B ratio": +(xbWhole / xbNow).toFixed(2),
    "Xt·W3 cpu ms, one panel": +xtwWhole.toFixed(2), "Xt·W3 cpu ms, now": +xtwNow.toFixed(2),
    "iteration cpu ms": +iterationNow.toFixed(1),
    "iteration cpu ms, one panel (estimate)": +(iterationNow + xbWhole - xbNow + xtwWhole - xtwNow).toFixed(1),
    "Gram cpu ms, one panel": +gramWhole.toFixed(1), "Gram cpu ms, now": +gramNew.toFixed(1), "Gram ratio": +(gramWhole / gramNew).toFixed(2),
  });
  engine.dispose();
}
const load = loadavg().map((x) => +x.toFixed(2));
console.log(`MNIST layer 1, sparse products, SIMD ${backend.simd}, one thread; load average ${load.join(" ")}`);
console.table(rows);
console.table(panels);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/iteration-profile-${new Date().toISOString().slice(0, 10)}${suffix}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, loadAverage: load, rows, panels }, null, 2));
console.log(`wrote ${file}`);
