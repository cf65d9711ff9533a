// net-trim against the authors' solver (bench/authors-admm.py: their ADMM in numpy, fixed ρ = 100,
// their ‖ΔW3‖ stop) on MNIST layer 1 of the bundled model, in one run. Equal quality: the
// objective within 1% of net-trim's default solve and the output error within ε(1 + 1e-3).
// Run: npm run bench:authors [-- --samples 2000,8000] [--threads 1,2] [--cap N]. Needs python3 with
// numpy and scipy. The authors' run is capped at 3000 iterations (1200 above P = 4000: the run
// stays under half an hour), or at --cap (past their equal-quality point: a shorter run).
// --threads: net-trim's runs with pruneLayer({threads}) (the threaded build), one row each.
// Prints a table and writes bench/results/authors-<date>.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { npy } from "../test/helpers/npy.ts";

const argOf = (name: string, fallback: string) => {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : fallback;
};
const sizes = argOf("samples", "2000,8000").split(",").map(Number);
const threadCounts = argOf("threads", "1").split(",").map(Number);
const cap = Number(argOf("cap", "0"));
const rows: Record<string, unknown>[] = [];

for (const P of sizes) {
  const pr = mnistLayerProblem(P);
  const ours = new Map<number, LayerResult>();
  const bench = new Bench({ iterations: 1, time: 0, warmupIterations: 0 });
  for (const threads of threadCounts) {
    bench.add(`net-trim ${threads} thread(s)`, async () => {
      ours.set(threads, await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { epsilonGain: 0.05, threads }));
    });
  }
  await bench.run();
  const r = ours.get(threadCounts[0])!;
  const dir = mkdtempSync(join(tmpdir(), "net-trim-authors-"));
  try {
    writeFileSync(join(dir, "x.npy"), npy(pr.input, P, pr.N));
    writeFileSync(join(dir, "y.npy"), npy(pr.output, P, pr.M));
    writeFileSync(join(dir, "job.json"), JSON.stringify({ epsilon: r.info.epsilon, biasUnit: r.info.biasUnit, target: r.info.l1Norm, maxIter: cap > 0 ? cap : P > 4000 ? 1200 : 3000 }));
    for (const threads of ["1", "2"]) {
      const out = execFileSync("python3", ["bench/authors-admm.py", dir], {
        encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: threads }, maxBuffer: 1 << 20,
      });
      const a = JSON.parse(out.trim().split("\n").pop()!);
      const eq = a.equalQuality;
      for (const mine of ours.values()) {
        const oursSeconds = mine.info.totalMs / 1000;
        rows.push({
        P, "numpy threads": threads, "net-trim threads": `${mine.info.threads}${mine.info.threadsReason ? ` (${mine.info.threadsReason})` : ""}`,
        "net-trim s (iterations)": `${oursSeconds.toFixed(1)} (${mine.info.iterations})`,
        "authors to equal quality s (iterations)": eq ? `${eq.seconds.toFixed(1)} (${eq.iterations})` : `not in ${a.final.iterations}`,
        "ratio": eq ? +(eq.seconds / oursSeconds).toFixed(2) : null,
        "authors to their stop s (iterations)": `${a.final.seconds.toFixed(1)} (${a.final.iterations}${a.final.stoppedByTheirRule ? "" : ", cap"})`,
        "authors' final objective / ours": +(a.final.objective / r.info.l1Norm).toFixed(4),
        "authors' final output error / ε": +(a.final.outputError / r.info.epsilon).toFixed(4),
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`MNIST layer 1 (784 + bias → 300), ε = 0.05·‖Y‖_F; net-trim default options on ${threadCounts.join(", ")} thread(s)`);
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/authors-${new Date().toISOString().slice(0, 10)}${threadCounts.some((t) => t > 1) ? "-threads" : ""}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`wrote ${file}`);
