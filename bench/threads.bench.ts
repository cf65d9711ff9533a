// Thread scaling of one layer solve: MNIST layer 1 of the bundled model (784 + bias → 300, relu,
// sparse products), 1 thread against 2, alternated in one process so both see the same load.
// - Whole solve: pruneLayer with threads 1 and 2 (totalMs: setup, worker start, iterations,
//   the checks between batches), and the process's CPU time (all threads).
// - Per iteration: the one-thread engine and the threaded engine on 2 threads, set up once,
//   taking turns of 5 iterations: wall and CPU time per iteration.
// A wall-clock gain needs a free core; the CPU time shows what the threads cost beyond the work
// on any machine. Run: npm run bench:threads [-- --samples 2000,8000 --rounds 3].
// Prints a table and writes bench/results/threads-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { compileModule, instantiate, matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { createWasmEngine } from "../bindings/wasm/engine.ts";
import { createThreadedEngine } from "../bindings/wasm/threaded-engine.ts";
import { compileThreadedModule } from "../bindings/wasm/threaded-loader.ts";
import { workerLauncher } from "../bindings/workers/layer-threads.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import type { AdmmEngine, LayerProblem } from "../bindings/solver/engine.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { threadRows } from "./thread-rows.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg("--samples", "2000,8000").split(",").map(Number);
const rounds = Number(arg("--rounds", "3"));
const TURNS = 12;
const rows: Record<string, unknown>[] = [];
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

for (const P of sizes) {
  const pr = mnistLayerProblem(P);

  // Whole solves, alternated (the order too, between rounds).
  const solves = new Map<number, { r: LayerResult; cpu: number }[]>([[1, []], [2, []]]);
  const solve = async (threads: number) => {
    const c0 = process.cpuUsage();
    const r = await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { epsilonGain: 0.05, threads });
    solves.get(threads)!.push({ r, cpu: cpuMs(process.cpuUsage(c0)) });
  };
  await solve(1); // warm-up: module compile, first-use costs
  solves.get(1)!.length = 0;
  for (let k = 0; k < rounds; k++) for (const t of k % 2 === 0 ? [1, 2] : [2, 1]) await solve(t);

  // Iterations on engines set up once.
  let zeros = 0;
  for (const v of pr.input) if (v === 0) zeros++;
  const problem: LayerProblem = {
    P, N: pr.N, M: pr.M, input: pr.input, output: pr.output, upperBound: undefined, linear: false, activeThreshold: 0,
    sparse: true, fitBias: true, biasUnit: biasUnitOf(pr.input, P, pr.N), designNonzeros: pr.input.length - zeros + P, form: "samples",
  };
  const engines = new Map<number, AdmmEngine>([
    [1, createWasmEngine(await instantiate(await compileModule()), problem)],
    [2, await createThreadedEngine(await compileThreadedModule(), problem, 2, workerLauncher())],
  ]);
  const turns = new Map<number, { wall: number; cpu: number }[]>([[1, []], [2, []]]);
  for (const e of engines.values()) {
    e.start(0.05, 1, 1.6);
    e.iterate(3, false);
  }
  for (let k = 0; k < TURNS; k++) {
    for (const [t, e] of engines) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      e.iterate(5, false);
      turns.get(t)!.push({ wall: (performance.now() - w0) / 5, cpu: cpuMs(process.cpuUsage(c0)) / 5 });
    }
  }
  for (const e of engines.values()) await e.dispose();

  for (const row of threadRows(solves, turns, 2)) rows.push({ P, ...row });
}
console.log(`MNIST layer 1, 1 vs 2 threads: ${rounds} alternated solves, ${TURNS} turns of 5 iterations; ${availableParallelism()} hardware threads`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/threads-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, turns: TURNS, rows }, null, 2));
console.log(`wrote ${file}`);
