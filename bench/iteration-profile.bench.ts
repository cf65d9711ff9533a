// Where one ADMM iteration's time goes, MNIST layer 1 (784 + bias → 300): the three products
// (X·B, C̃⁻¹·D, Xt·W3) timed on their own, on the engine's own buffers, and the rest (the five
// fused elementwise passes) as the difference. Run: npm run bench:profile [-- --samples 2000,8000].
// Prints a table and writes bench/results/iteration-profile-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { Bench } from "tinybench";
import { compileModule, instantiate } from "../bindings/index.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { bufferSizes, inputOverlay, layout } from "../bindings/wasm/memory-plan.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";

const i = process.argv.indexOf("--samples");
const sizes = (i > 0 ? process.argv[i + 1] : "2000,8000").split(",").map(Number);
const backend = await instantiate(await compileModule());
const ex = backend.exports;
const rows: Record<string, unknown>[] = [];

const median = (t: { result: unknown }) => {
  const r = t.result as { latency?: { p50?: number; mean: number } };
  return r.latency?.p50 ?? r.latency?.mean ?? NaN;
};

for (const P of sizes) {
  const pr = mnistLayerProblem(P);
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
  const o = layout(ex.heapBase() >>> 0, bufferSizes(problem, ex.gemmScratchBytes(), ex.spmmScratchBytes(Math.max(P, NB)), ex.admmSumsBytes(P, NB)), inputOverlay(problem)).offsets;
  const bench = new Bench({ iterations: 10, time: 0, warmupIterations: 2 });
  bench
    .add("whole iteration", () => engine.iterate(1, false))
    .add("X·B (SpMM, N̄×P by P×M)", () => ex.productXB(o.b, o.d))
    .add("C̃⁻¹·D (GEMM, N̄×N̄ by N̄×M)", () => ex.gemm(NB, M, NB, o.cinv, NB, o.d, M, o.e, M, 0, o.scratch))
    .add("Xt·W3 (SpMM, P×N̄ by N̄×M)", () => ex.productXtW(ex.admmW3Pointer() >>> 0, ex.admmFreeOutputPointer() >>> 0));
  await bench.run();
  const [whole, xb, cinv, xtw] = bench.tasks.map(median);
  const passes = whole - xb - cinv - xtw;
  for (const [part, ms] of [["whole iteration", whole], ["X·B", xb], ["C̃⁻¹·D", cinv], ["Xt·W3", xtw], ["elementwise passes (the rest)", passes]] as const) {
    rows.push({ P, part, "median ms": +ms.toFixed(2), "share %": +((100 * ms) / whole).toFixed(1) });
  }
  engine.dispose();
}
console.log(`MNIST layer 1, sparse products, SIMD ${backend.simd}, one thread`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/iteration-profile-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`wrote ${file}`);
