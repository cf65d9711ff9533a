// A LeNet-FC1-sized layer (3136 inputs + bias → 512 outputs, ReLU-like inputs with 60% zeros):
// the setup (Gram matrix, f64 Cholesky, C̃⁻¹) and ADMM iterations on the WebAssembly engine.
// In one run: the setup as the solver does it now (lower-triangle Gram, blocked Cholesky and
// inverse) and as it did before (full Gram, row-wise kernels, kept in assembly/cholesky-rowwise.ts),
// each phase timed on the same buffers. Wall and this process's CPU time (the machine is shared).
// Run: npm run bench:big [-- --samples 55000 --iterations 3 --no-old (setup and iterations only)].
// Prints each row as it ends, then a table, and writes
// bench/results/big-layer[-p<P>]-<date>.json (no suffix at the default P = 8000).
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Bench } from "tinybench";
import { compileModule, instantiate } from "../bindings/index.ts";
import { setUpWasmEngine } from "../bindings/wasm/engine.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";
import { rng } from "../test/helpers/problems.ts";
import { instantiateReference, type ReferenceExports } from "../test/helpers/reference-wasm.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "8000"));
const iterations = Number(arg("--iterations", "3"));
const withOld = !process.argv.includes("--no-old");
const N = 3136, M = 512, NB = N + 1;
const u = rng(7);
const input = new Float32Array(P * N).map(() => Math.max(0, u() - 0.6));
const output = new Float32Array(P * M).map(() => Math.max(0, u() - 0.5));
let zeros = 0;
for (const v of input) if (v === 0) zeros++;
const problem: LayerProblem = {
  P, N, M, input, output, upperBound: undefined, linear: false, activeThreshold: 0, sparse: true, fitBias: true,
  biasUnit: biasUnitOf(input, P, N), designNonzeros: input.length - zeros + P, form: "samples",
};
// The old kernels are in the reference build (the solver's kernels and those), not the shipped one.
const backend = withOld ? await instantiateReference() : await instantiate(await compileModule());
const ex = backend.exports as ReferenceExports;
const load0 = loadavg()[0];
let peakRss = 0;
const notePeak = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

/** One timed run of `f` (tinybench, no warm-up: these take seconds): wall and CPU seconds. */
async function timeOnce(name: string, f: () => void, samples = 1): Promise<{ task: string; "wall s": number; "cpu s": number }> {
  let cpu = 0;
  const bench = new Bench({ iterations: samples, time: 0, warmupIterations: 0 });
  bench.add(name, () => {
    const c = process.cpuUsage();
    f();
    const d = process.cpuUsage(c);
    cpu += (d.user + d.system) / 1e6 / samples;
    notePeak();
  });
  await bench.run();
  const r = bench.tasks[0].result as unknown as { latency?: { mean: number } };
  const row = { task: name, "wall s": +((r.latency?.mean ?? NaN) / 1000).toFixed(3), "cpu s": +cpu.toFixed(3) };
  console.log(`${row.task}: ${row["wall s"]} s wall, ${row["cpu s"]} s CPU (load ${loadavg()[0].toFixed(2)})`); // long runs: show progress
  return row;
}

const rows: { task: string; "wall s": number; "cpu s": number }[] = [];
// The solver's setup, as it runs (new kernels), then iterations on it.
let setup!: ReturnType<typeof setUpWasmEngine>;
rows.push(await timeOnce("setup now: design, CSR, lower Gram, blocked Cholesky + C̃⁻¹", () => { setup = setUpWasmEngine(backend, problem); }));
const engine = setup.engine;
engine.start(1, 1, 1.6);
const iteration = await timeOnce("one ADMM iteration (sparse products)", () => engine.iterate(1, false), iterations);
rows.push(iteration);

// Each phase of the setup, new and old kernels, on the engine's own buffers (they are set up
// again here; the engine is not used after this). Skipped with --no-old.
const o = setup.offsets;
const phases: [string, () => void][] = withOld ? [
  ["  Gram, lower triangle (now)", () => ex.gramLowerPacked(NB, P, o.xRow, o.xCol, o.xVal, o.xt, NB, o.gram, NB, o.spmmScratch)],
  ["  Cholesky, blocked (now)", () => { ex.gramPlusIdentity64(NB, o.gram, o.c64); ex.cholesky64(NB, o.c64); }],
  ["  C̃⁻¹ from the factor, blocked (now)", () => ex.invertFromCholesky64(NB, o.c64, o.inv64)],
  ["  Gram, full (before)", () => ex.spmmPacked(NB, NB, P, o.xRow, o.xCol, o.xVal, o.xt, NB, o.gram, NB, o.spmmScratch)],
  ["  Cholesky, row-wise (before)", () => { ex.gramPlusIdentity64(NB, o.gram, o.c64); ex.cholesky64Rowwise(NB, o.c64); }],
  ["  C̃⁻¹ from the factor, row-wise (before)", () => ex.invertFromCholesky64Rowwise(NB, o.c64, o.inv64)],
] : [];
for (const [name, f] of phases) rows.push(await timeOnce(name, f));
const byName = (part: string) => rows.find((r) => r.task.includes(part))!;
const summary: Record<string, number> = {};
if (withOld) {
  // The setup before = the setup now with its three phases swapped for the old ones.
  for (const key of ["wall s", "cpu s"] as const) {
    const now = byName("setup now")[key];
    const swap = (a: string, b: string) => byName(b)[key] - byName(a)[key];
    const before = now + swap("lower triangle", "full (before)") + swap("Cholesky, blocked", "Cholesky, row-wise") +
      swap("factor, blocked", "factor, row-wise");
    summary[`setup before (${key})`] = +before.toFixed(3);
    summary[`ratio before/now (${key})`] = +(before / now).toFixed(2);
  }
}

const memoryBytes = backend.memory.buffer.byteLength;
console.log(`N = ${N} + bias, M = ${M}, P = ${P}, input zeros ${(100 * zeros / input.length).toFixed(1)}%, SIMD ${backend.simd}, ` +
  `wasm memory ${(memoryBytes / 2 ** 30).toFixed(2)} GiB, peak RSS ${(peakRss / 2 ** 30).toFixed(2)} GiB, load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.table(rows);
if (withOld) console.table(summary);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/big-layer${P === 8000 ? "" : `-p${P}`}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, loadAverage: [load0, loadavg()[0]], P, N, M,
  zeroFraction: zeros / input.length, memoryBytes, peakRssBytes: peakRss, iterationsTimed: iterations, rows, summary,
}, null, 2));
console.log(`wrote ${file}`);
