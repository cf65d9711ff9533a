// Thread scaling of one conv layer solve: the bundled CNN's conv1 (28×28×1 → 24×24×6, 5×5,
// N̄ = 26) and conv2 (12×12×6 → 8×8×16, N̄ = 151) on P calibration digits, 1 thread against 2
// (pruneConvLayer with threads), in one process so both see the same load.
// - Whole solve: info.totalMs (setup, worker start, iterations, the checks between batches) and
//   the process's CPU time, 1 and 2 threads alternated; the bits must be the same.
// - Per iteration: the one-thread conv engine and the threaded one on 2 threads, set up once,
//   taking turns of 3 iterations: wall and CPU time per iteration.
// Run: npm run bench:conv-threads [-- --samples 8000 --layers conv1,conv2 --rounds 1].
// Prints a table with the load average and writes bench/results/conv-threads-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { foldBatchNorms, pruneConvLayer, type LayerResult } from "../bindings/index.ts";
import { createConvEngine } from "../bindings/wasm/conv-engine.ts";
import { getBackend } from "../bindings/wasm/loader.ts";
import { createThreadedEngine } from "../bindings/wasm/threaded-engine.ts";
import { compileThreadedModule } from "../bindings/wasm/threaded-loader.ts";
import { workerLauncher } from "../bindings/workers/layer-threads.ts";
import type { AdmmEngine } from "../bindings/solver/engine.ts";
import { cnnConvProblem } from "./cnn-conv-problem.ts";
import { loadCnnContext } from "../examples/cnn-report.ts";
import { PIXELS } from "../examples/mnist-data.ts";
import { threadRows } from "./thread-rows.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "8000"));
const layers = arg("--layers", "conv1,conv2").split(",");
const rounds = Number(arg("--rounds", "1"));
const TURNS = 6, PER_TURN = 3;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const load = () => loadavg().map((v) => +v.toFixed(2));

const ctx = loadCnnContext();
const { graph } = foldBatchNorms(ctx.graph);
const digits = ctx.data.trainX.subarray(0, P * PIXELS);
const rows: Record<string, unknown>[] = [];
const loadAtStart = load();

for (const name of layers) {
  const { node, input, output, inShape, g, problem } = cnnConvProblem(graph, digits, P, name);
  const options = {
    kind: "relu" as const, epsilonGain: 0.05, kernelSize: node.kernelSize, strides: node.strides, padding: node.padding, dilation: node.dilation,
  };

  // Whole solves, alternated (the order too, between rounds).
  const solves = new Map<number, { r: LayerResult; cpu: number; load: number[] }[]>([[1, []], [2, []]]);
  for (let k = 0; k < rounds; k++) {
    for (const threads of k % 2 === 0 ? [1, 2] : [2, 1]) {
      const c0 = process.cpuUsage();
      const r = await pruneConvLayer({ data: input, shape: [P, ...inShape] }, { data: output, shape: [P, ...node.shape] }, { ...options, threads });
      solves.get(threads)!.push({ r, cpu: cpuMs(process.cpuUsage(c0)), load: load() });
    }
  }

  // Iterations on engines set up once.
  const engines = new Map<number, AdmmEngine>([
    [1, createConvEngine(await getBackend(), problem, g, "factored")],
    [2, await createThreadedEngine(await compileThreadedModule(), problem, 2, workerLauncher(), g)],
  ]);
  const turns = new Map<number, { wall: number; cpu: number }[]>([[1, []], [2, []]]);
  for (const e of engines.values()) {
    e.start(0.05, 1, 1.6);
    e.iterate(1, false);
  }
  for (let k = 0; k < TURNS; k++) {
    for (const [t, e] of k % 2 === 0 ? [...engines] : [...engines].reverse()) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      e.iterate(PER_TURN, false);
      turns.get(t)!.push({ wall: (performance.now() - w0) / PER_TURN, cpu: cpuMs(process.cpuUsage(c0)) / PER_TURN });
    }
  }
  for (const e of engines.values()) await e.dispose();

  threadRows(solves, turns, 0).forEach((row, k) => {
    rows.push({ layer: name, P: problem.P, "N̄": problem.N + 1, M: problem.M, ...row, "load after": solves.get(k + 1)!.at(-1)!.load.join(" ") });
  });
}
console.log(`CNN conv layers, P = ${P} digits, 1 vs 2 threads: ${rounds} alternated solve(s), ${TURNS} turns of ${PER_TURN} iterations; ${availableParallelism()} hardware threads; load at start ${loadAtStart.join(" ")}, now ${load().join(" ")} (a shared machine)`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/conv-threads-${new Date().toISOString().slice(0, 10)}${P !== 8000 ? `-p${P}` : ""}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, samples: P, rounds, turns: TURNS, perTurn: PER_TURN, loadAtStart, loadAtEnd: load(), rows }, null, 2));
console.log(`wrote ${file}`);
