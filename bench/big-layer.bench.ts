// A LeNet-FC1-sized layer (3136 inputs + bias → 512 outputs, ReLU-like inputs with 60% zeros):
// the setup (Gram matrix, f64 Cholesky, C̃⁻¹) and one ADMM iteration, on the WebAssembly engine.
// Run: npm run bench:big [-- --samples 8000]. Prints a table and writes
// bench/results/big-layer-<date>.json. (P = 55,000, the paper's size, needs more than WebAssembly's
// 4 GiB in this form: the solver refuses it with the numbers.)
import { mkdirSync, writeFileSync } from "node:fs";
import { Bench } from "tinybench";
import { compileModule, instantiate } from "../bindings/index.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";
import { rng } from "../test/helpers/problems.ts";

const i = process.argv.indexOf("--samples");
const P = i > 0 ? Number(process.argv[i + 1]) : 8000;
const N = 3136, M = 512;
const u = rng(7);
const input = new Float32Array(P * N).map(() => Math.max(0, u() - 0.6));
const output = new Float32Array(P * M).map(() => Math.max(0, u() - 0.5));
let zeros = 0;
for (const v of input) if (v === 0) zeros++;
const problem: LayerProblem = {
  P, N, M, input, output, upperBound: undefined, linear: false, activeThreshold: 0, sparse: true, fitBias: true,
  biasUnit: biasUnitOf(input, P, N), designNonzeros: input.length - zeros + P, form: "samples",
};
const backend = await instantiate(await compileModule());

const setup = new Bench({ iterations: 2, time: 0, warmupIterations: 0 });
setup.add("setup: Gram (SpMM), f64 Cholesky, C̃⁻¹", () => {
  createWasmEngine(backend, problem).dispose();
});
await setup.run();
const engine = createWasmEngine(backend, problem);
engine.start(1, 1, 1.6);
const iteration = new Bench({ iterations: 3, time: 0, warmupIterations: 1 });
iteration.add("one ADMM iteration (sparse products)", () => engine.iterate(1, false));
await iteration.run();

const rows = [...setup.tasks, ...iteration.tasks].map((t) => {
  const r = t.result as unknown as { latency?: { p50?: number; mean: number } };
  return { task: t.name, "median s": +(((r.latency?.p50 ?? r.latency?.mean) ?? NaN) / 1000).toFixed(3) };
});
console.log(`N = ${N} + bias, M = ${M}, P = ${P}, input zeros ${(100 * zeros / input.length).toFixed(1)}%, SIMD ${backend.simd}, memory ${(backend.memory.buffer.byteLength / 2 ** 30).toFixed(2)} GiB`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/big-layer-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, P, N, M, zeroFraction: zeros / input.length, memoryBytes: backend.memory.buffer.byteLength, rows }, null, 2));
console.log(`wrote ${file}`);
