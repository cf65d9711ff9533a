// Per-layer jobs against in-process parallel mode at equal workers: the bundled MLP (784-300-100-10)
// and the bundled CNN (conv1, conv2, fc1, logits) on P MNIST digits, pruneNetwork / pruneGraph
// ({mode: "parallel", workers: k}) in this process against plan (this process) → k
// `net-trim solve --next --until-done` processes sharing the work folder → merge (this process). Runs alternate (which goes first too) so both see the same load; medians
// and means of the rounds. Every distributed run is checked bit-identical to the in-process one.
// Run: npm run bench:distributed [-- --models mlp,cnn --samples 8000 --cnn-samples 8000 --workers 1,2,3 --rounds 2 --runner dist|tsx].
// `dist` (default when dist/cli exists: npm run build) runs the built CLI, as an installed
// package does; `tsx` runs the TypeScript sources (adds tsx's start-up to every process).
// Prints a table and writes bench/results/distributed-<date>.json.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { isPrunable, parseLayersModelGraph, pruneGraph, pruneNetwork, type ModelGraph } from "../bindings/index.ts";
import { mergeGraphResults, mergeResults, planGraph, planNetwork, readLayersModelDir } from "../bindings/node/files.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "8000"));
const cnnP = Number(arg("--cnn-samples", String(P)));
const models = arg("--models", "mlp,cnn").split(",");
const workerCounts = arg("--workers", "1,2,3").split(",").map(Number);
const rounds = Number(arg("--rounds", "2"));
const root = path.resolve(import.meta.dirname, "..");
const runner = arg("--runner", existsSync(path.join(root, "dist", "cli", "net-trim.js")) ? "dist" : "tsx");
const cliArgs = runner === "dist" ? [path.join(root, "dist", "cli", "net-trim.js")] : ["--import", "tsx", path.join(root, "cli", "net-trim.ts")];

const mnist = loadMnist().trainX;
const network = readLayersModelDir(path.join(root, "models", "mnist-mlp", "model.json")).network;
const cnnBytes = readFileSync(path.join(root, "models", "mnist-cnn", "weights.bin"));
const cnn: ModelGraph = parseLayersModelGraph(JSON.parse(readFileSync(path.join(root, "models", "mnist-cnn", "model.json"), "utf8")), cnnBytes.buffer.slice(cnnBytes.byteOffset, cnnBytes.byteOffset + cnnBytes.byteLength));

/** One model both ways; each returns the pruned weights (kernels and biases, in order) to compare bit for bit. */
interface Subject { label: string; P: number; inProcess(k: number): Promise<Float32Array[]>; plan(): Promise<number>; merge(): Promise<Float32Array[]> }
const graphWeights = (g: ModelGraph) => g.nodes.filter(isPrunable).flatMap((n) => [n.kernel, ...(n.bias ? [n.bias] : [])]);
const mlpInput = { data: mnist.slice(0, P * PIXELS), rows: P, cols: PIXELS };
const cnnInput = { data: mnist.slice(0, cnnP * PIXELS), shape: [cnnP, 28, 28, 1] };
const both: Subject[] = [
  {
    label: "bundled MLP 784-300-100-10", P,
    inProcess: async (k) => (await pruneNetwork(network, mlpInput, { mode: "parallel", workers: k })).network.layers.flatMap((l) => [l.kernel, l.bias]),
    plan: async () => (await planNetwork(network, mlpInput, {}, work)).jobs,
    merge: async () => (await mergeResults(network, work)).network.layers.flatMap((l) => [l.kernel, l.bias]),
  },
  {
    label: "bundled CNN conv1-conv2-fc1-logits", P: cnnP,
    inProcess: async (k) => graphWeights((await pruneGraph(cnn, cnnInput, { mode: "parallel", workers: k })).graph),
    plan: async () => (await planGraph(cnn, cnnInput, {}, work)).jobs,
    merge: async () => graphWeights((await mergeGraphResults(cnn, work)).graph),
  },
];
const subjects = both.filter((_s, i) => models.includes(["mlp", "cnn"][i]));
const work = path.join(tmpdir(), `net-trim-bench-dist-${process.pid}`);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;


function solveProcess(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgs, "solve", "--work", work, "--next", "--until-done"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`solve exited ${code}: ${err}`))));
  });
}

const sameBits = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));

/** Wall times (ms); jobIo: within the jobs, all but the solver (reading and hashing the problem, starting the one-worker pool, writing the result). */
interface Sample { inProcess: number; plan: number; solves: number; merge: number; jobIo: number }
const allRows: Record<string, unknown>[] = [];

for (const subject of subjects) {
  const samples = new Map<number, Sample[]>(workerCounts.map((k) => [k, []]));
  let reference: Float32Array[] | undefined;
  for (let round = 0; round < rounds; round++) {
    for (const k of round % 2 === 0 ? workerCounts : [...workerCounts].reverse()) {
      const s: Partial<Sample> = {};
      const inProcess = async () => {
        const t = performance.now();
        const r = await subject.inProcess(k);
        s.inProcess = performance.now() - t;
        reference ??= r;
        if (!sameBits(r, reference)) throw new Error(`${subject.label}: in-process run with ${k} workers differs from the first run`);
      };
      const distributed = async () => {
        rmSync(work, { recursive: true, force: true });
        let t = performance.now();
        const jobs = await subject.plan();
        s.plan = performance.now() - t;
        t = performance.now();
        await Promise.all(Array.from({ length: k }, solveProcess));
        s.solves = performance.now() - t;
        s.jobIo = Array.from({ length: jobs }, (_, i) => i).reduce((sum, i) => {
          const timing = JSON.parse(readFileSync(path.join(work, "results", `layer-${i}.timing.json`), "utf8")) as { wallMs: number; totalMs: number };
          return sum + timing.wallMs - timing.totalMs;
        }, 0);
        t = performance.now();
        const r = await subject.merge();
        s.merge = performance.now() - t;
        if (reference && !sameBits(r, reference)) throw new Error(`${subject.label}: distributed run with ${k} workers differs from in-process parallel mode`);
        reference ??= r;
      };
      for (const run of round % 2 === 0 ? [inProcess, distributed] : [distributed, inProcess]) await run();
      samples.get(k)!.push(s as Sample);
      console.log(`${subject.label}, round ${round + 1}, ${k} workers: in-process ${(s.inProcess! / 1000).toFixed(2)} s, plan ${(s.plan! / 1000).toFixed(2)} s + solves ${(s.solves! / 1000).toFixed(2)} s (job I/O ${(s.jobIo! / 1000).toFixed(2)} s) + merge ${(s.merge! / 1000).toFixed(2)} s; load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    }
  }
  rmSync(work, { recursive: true, force: true });

  allRows.push(...workerCounts.map((k) => {
    const ss = samples.get(k)!;
    const totals = ss.map((s) => s.plan + s.solves + s.merge);
    // The overhead of each round against the in-process run next to it, then the median.
    const overheads = ss.map((s, i) => totals[i] / s.inProcess - 1);
    return {
      model: subject.label.split(" ")[1], P: subject.P, workers: k,
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
  }));
}
const rows = allRows;
console.log(`${subjects.map((s) => `${s.label} (P = ${s.P})`).join(", ")}, epsilon gain 0.05, ${rounds} alternated rounds, CLI runner ${runner}; ${availableParallelism()} hardware threads; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.table(rows);
mkdirSync(path.join(root, "bench", "results"), { recursive: true });
const file = path.join(root, "bench", "results", `distributed-${new Date().toISOString().slice(0, 10)}${arg("--suffix", "")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, P, cnnP, rounds, runner, hardwareThreads: availableParallelism(), loadAverageAtEnd: loadavg(), rows }, null, 2));
console.log(`wrote ${path.relative(root, file)}`);
