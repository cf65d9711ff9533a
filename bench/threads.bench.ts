// Thread scaling of one layer solve: MNIST layer 1 of the bundled model (784 + bias → 300, relu,
// sparse products), pruneLayer with threads 1 and 2, alternated in one process so both see the
// same machine load. Whole solve (totalMs: setup, worker start, iterations, the measures) and
// per iteration (solveMs / iterations: the part threads split; setup stays on one thread), and
// the process's CPU time (all threads).
// Run: npm run bench:threads [-- --samples 2000,8000 --rounds 3].
// Prints a table and writes bench/results/threads-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg("--samples", "2000,8000").split(",").map(Number);
const rounds = Number(arg("--rounds", "3"));
const THREADS = [1, 2];
const rows: Record<string, unknown>[] = [];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

for (const P of sizes) {
  const pr = mnistLayerProblem(P);
  const cpu = new Map<LayerResult, number>();
  const solve = async (threads: number) => {
    const c0 = process.cpuUsage();
    const r = await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { epsilonGain: 0.05, threads });
    const c = process.cpuUsage(c0);
    cpu.set(r, (c.user + c.system) / 1000);
    return r;
  };
  await solve(1); // warm-up: module compile, first-use costs
  const runs = new Map<number, LayerResult[]>(THREADS.map((t) => [t, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order between rounds too.
    for (const t of r % 2 === 0 ? THREADS : [...THREADS].reverse()) runs.get(t)!.push(await solve(t));
  }
  const one = runs.get(1)!;
  const base = one[0];
  for (const t of THREADS) {
    const rs = runs.get(t)!;
    // Same bits for any thread count: checked here on every run too.
    const same = rs.every((r) => r.info.iterations === base.info.iterations && r.weights.every((w, i) => Object.is(w, base.weights[i])));
    const total = median(rs.map((r) => r.info.totalMs));
    const perIt = median(rs.map((r) => r.info.solveMs / r.info.iterations));
    const total1 = median(one.map((r) => r.info.totalMs));
    const perIt1 = median(one.map((r) => r.info.solveMs / r.info.iterations));
    rows.push({
      P, threads: rs[0].info.threads, iterations: rs[0].info.iterations,
      "setup ms": +median(rs.map((r) => r.info.setupMs)).toFixed(1),
      "whole solve ms": +total.toFixed(1), "speed-up (solve)": +(total1 / total).toFixed(2),
      "ms / iteration": +perIt.toFixed(2), "speed-up (iteration)": +(perIt1 / perIt).toFixed(2),
      // CPU time of the process (all threads): what threads cost beyond the work; wall time
      // gains need free cores, which a shared machine may not have.
      "CPU ms (all threads)": +median(rs.map((r) => cpu.get(r)!)).toFixed(0),
      "same bits as 1 thread": same,
    });
  }
}
console.log(`MNIST layer 1, pruneLayer threads 1 vs 2, median of ${rounds} alternated runs, ${availableParallelism()} hardware threads`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/threads-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, rows }, null, 2));
console.log(`wrote ${file}`);
