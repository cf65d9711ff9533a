// Per-layer jobs against in-process parallel mode at equal workers: the bundled MLP (784-300-100-10)
// on P MNIST digits, pruneNetwork({mode: "parallel", workers: k}) in this process against
// plan (this process) → k `net-trim solve --next --until-done` processes sharing the work folder →
// merge (this process). Runs alternate (which goes first too) so both see the same load; medians
// and means of the rounds. Every distributed run is checked bit-identical to the in-process one.
// Run: npm run bench:distributed [-- --samples 8000 --workers 1,2,3 --rounds 2 --runner dist|tsx].
// `dist` (default when dist/cli exists: npm run build) runs the built CLI, as an installed
// package does; `tsx` runs the TypeScript sources (adds tsx's start-up to every process).
// Prints a table and writes bench/results/distributed-<date>.json.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import * as path from "node:path";
import { pruneNetwork, type NetworkResult } from "../bindings/index.ts";
import { mergeResults, planNetwork, readLayersModelDir } from "../bindings/node/files.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "8000"));
const workerCounts = arg("--workers", "1,2,3").split(",").map(Number);
const rounds = Number(arg("--rounds", "2"));
const root = path.resolve(import.meta.dirname, "..");
const runner = arg("--runner", existsSync(path.join(root, "dist", "cli", "net-trim.js")) ? "dist" : "tsx");
const cliArgs = runner === "dist" ? [path.join(root, "dist", "cli", "net-trim.js")] : ["--import", "tsx", path.join(root, "cli", "net-trim.ts")];

const network = readLayersModelDir(path.join(root, "models", "mnist-mlp", "model.json")).network;
const input = { data: loadMnist().trainX.slice(0, P * PIXELS), rows: P, cols: PIXELS };
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const work = path.join(tmpdir(), `net-trim-bench-dist-${process.pid}`);

function solveProcess(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgs, "solve", "--work", work, "--next", "--until-done"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`solve exited ${code}: ${err}`))));
  });
}

const sameBits = (a: NetworkResult, b: NetworkResult) => a.network.layers.every((l, i) =>
  Buffer.from(l.kernel.buffer, l.kernel.byteOffset, l.kernel.byteLength).equals(Buffer.from(b.network.layers[i].kernel.buffer, b.network.layers[i].kernel.byteOffset, b.network.layers[i].kernel.byteLength))
  && Buffer.from(l.bias.buffer).equals(Buffer.from(b.network.layers[i].bias.buffer)));

/** Wall times (ms); jobIo: within the jobs, all but the solver (reading and hashing the problem, starting the one-worker pool, writing the result). */
interface Sample { inProcess: number; plan: number; solves: number; merge: number; jobIo: number }
const samples = new Map<number, Sample[]>(workerCounts.map((k) => [k, []]));
let reference: NetworkResult | undefined;

for (let round = 0; round < rounds; round++) {
  for (const k of round % 2 === 0 ? workerCounts : [...workerCounts].reverse()) {
    const s: Partial<Sample> = {};
    const inProcess = async () => {
      const t = performance.now();
      const r = await pruneNetwork(network, input, { mode: "parallel", workers: k });
      s.inProcess = performance.now() - t;
      reference ??= r;
      if (!sameBits(r, reference)) throw new Error(`in-process run with ${k} workers differs from the first run`);
    };
    const distributed = async () => {
      rmSync(work, { recursive: true, force: true });
      let t = performance.now();
      await planNetwork(network, input, {}, work);
      s.plan = performance.now() - t;
      t = performance.now();
      await Promise.all(Array.from({ length: k }, solveProcess));
      s.solves = performance.now() - t;
      s.jobIo = network.layers.reduce((sum, _l, i) => {
        const timing = JSON.parse(readFileSync(path.join(work, "results", `layer-${i}.timing.json`), "utf8")) as { wallMs: number; totalMs: number };
        return sum + timing.wallMs - timing.totalMs;
      }, 0);
      t = performance.now();
      const r = await mergeResults(network, work);
      s.merge = performance.now() - t;
      if (reference && !sameBits(r, reference)) throw new Error(`distributed run with ${k} workers differs from in-process parallel mode`);
      reference ??= r;
    };
    for (const run of round % 2 === 0 ? [inProcess, distributed] : [distributed, inProcess]) await run();
    samples.get(k)!.push(s as Sample);
    console.log(`round ${round + 1}, ${k} workers: in-process ${(s.inProcess! / 1000).toFixed(2)} s, plan ${(s.plan! / 1000).toFixed(2)} s + solves ${(s.solves! / 1000).toFixed(2)} s (job I/O ${(s.jobIo! / 1000).toFixed(2)} s) + merge ${(s.merge! / 1000).toFixed(2)} s`);
  }
}
rmSync(work, { recursive: true, force: true });

const rows = workerCounts.map((k) => {
  const ss = samples.get(k)!;
  const totals = ss.map((s) => s.plan + s.solves + s.merge);
  // The overhead of each round against the in-process run next to it, then the median.
  const overheads = ss.map((s, i) => totals[i] / s.inProcess - 1);
  return {
    workers: k,
    "in-process s": +(median(ss.map((s) => s.inProcess)) / 1000).toFixed(2),
    "plan s": +(median(ss.map((s) => s.plan)) / 1000).toFixed(2),
    "solves s": +(median(ss.map((s) => s.solves)) / 1000).toFixed(2),
    "merge s": +(median(ss.map((s) => s.merge)) / 1000).toFixed(2),
    "jobs total s": +(median(totals) / 1000).toFixed(2),
    "job I/O s": +(median(ss.map((s) => s.jobIo)) / 1000).toFixed(2),
    "overhead % (median)": +(100 * median(overheads)).toFixed(1),
    "overhead % (mean)": +(100 * mean(overheads)).toFixed(1),
    "overhead % per round": overheads.map((o) => +(100 * o).toFixed(1)),
    "same bits": true,
  };
});
console.log(`bundled MLP 784-300-100-10, P = ${P}, epsilon gain 0.05, ${rounds} alternated rounds, CLI runner ${runner}; ${availableParallelism()} hardware threads`);
console.table(rows);
mkdirSync(path.join(root, "bench", "results"), { recursive: true });
const file = path.join(root, "bench", "results", `distributed-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, P, rounds, runner, hardwareThreads: availableParallelism(), rows }, null, 2));
console.log(`wrote ${path.relative(root, file)}`);
