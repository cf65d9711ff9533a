// Probe (session 6): CPU per iteration of conv1's threaded ADMM (2 threads), the threaded build
// before the shared transposition of B (a copy passed by --before) against the current one, taking
// turns in one process. Run: tsx bench/probe-adjoint-before-after.ts --before /tmp/x.wasm [--samples 2000]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { foldBatchNorms } from "../bindings/index.ts";
import { createThreadedEngine } from "../bindings/wasm/threaded-engine.ts";
import { compileThreadedModule } from "../bindings/wasm/threaded-loader.ts";
import { workerLauncher } from "../bindings/workers/layer-threads.ts";
import type { AdmmEngine } from "../bindings/solver/engine.ts";
import { cnnConvProblem } from "./cnn-conv-problem.ts";
import { loadCnnContext } from "../examples/cnn-report.ts";
import { PIXELS } from "../examples/mnist-data.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "2000"));
const before = arg("--before", "");
const TURNS = 8, PER_TURN = 3;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const ctx = loadCnnContext();
const { graph } = foldBatchNorms(ctx.graph);
const { problem, g } = cnnConvProblem(graph, ctx.data.trainX.subarray(0, P * PIXELS), P, "conv1");
const engines = new Map<string, AdmmEngine>([
  ["before", await createThreadedEngine(await WebAssembly.compile(readFileSync(before)), problem, 2, workerLauncher(), g)],
  ["after", await createThreadedEngine(await compileThreadedModule(), problem, 2, workerLauncher(), g)],
]);
for (const e of engines.values()) { e.start(0.05, 1, 1.6); e.iterate(1, false); }
const times = new Map<string, { wall: number; cpu: number }[]>([["before", []], ["after", []]]);
const load0 = loadavg();
for (let k = 0; k < TURNS; k++) {
  for (const [name, e] of k % 2 === 0 ? [...engines] : [...engines].reverse()) {
    const c0 = process.cpuUsage(), w0 = performance.now();
    e.iterate(PER_TURN, false);
    times.get(name)!.push({ wall: (performance.now() - w0) / PER_TURN, cpu: cpuMs(process.cpuUsage(c0)) / PER_TURN });
  }
}
// Both ran the same iterations from the same start: the W2 bits must agree.
const [wBefore, wAfter] = [...engines.values()].map((e) => new Uint32Array(e.readW2().slice().buffer));
const sameBits = wBefore.length === wAfter.length && wBefore.every((v, i) => v === wAfter[i]);
for (const e of engines.values()) await e.dispose();
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`conv1, P = ${P} digits (${problem.P} rows), 2 threads, ${TURNS} turns of ${PER_TURN}; load ${load0.map((v) => v.toFixed(2)).join(" ")} → ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
console.table([...times].map(([name, t]) => ({ build: name, "CPU ms/iter (median)": +median(t.map((x) => x.cpu)).toFixed(1), "wall ms/iter (median)": +median(t.map((x) => x.wall)).toFixed(1) })));
console.log(`same W2 bits before/after: ${sameBits}`);
