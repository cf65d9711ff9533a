// The CG weight update of Dense layers against the factored one (issue 8, big layers), in one run:
// MNIST layer 1 of the bundled model (784 + bias → 300), sparse products, one thread. Reports
// setup, iterations, time per iteration, CG steps per iteration and ‖W‖₁ / the factored one's.
// Run: npm run bench:dense-cg [-- --samples 1000,2000]. Prints a table and writes
// bench/results/dense-cg-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Bench } from "tinybench";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { getBackend } from "../bindings/wasm/loader.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";

const k = process.argv.indexOf("--samples");
const sizes = (k > 0 ? process.argv[k + 1] : "1000").split(",").map(Number);
const backend = await getBackend();
const rows: Record<string, unknown>[] = [];
const load = () => loadavg()[0].toFixed(1);

for (const P of sizes) {
  const pr = mnistLayerProblem(P);
  const results = new Map<string, { r: LayerResult; cgSteps: number }>();
  const bench = new Bench({ iterations: 1, time: 0, warmup: false });
  for (const wUpdate of ["factored", "cg"] as const) {
    bench.add(wUpdate, async () => {
      const r = await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { epsilonGain: 0.05, wUpdate });
      // The counter restarts with every solve's set-up: this solve's CG steps.
      results.set(wUpdate, { r, cgSteps: backend.exports.admmCgIterations() });
    });
  }
  const loadBefore = load();
  await bench.run();
  const factoredL1 = results.get("factored")!.r.info.l1Norm;
  for (const [wUpdate, { r, cgSteps }] of results) {
    const i = r.info;
    rows.push({
      P, wUpdate, status: r.status, iterations: i.iterations, "setup s": +(i.setupMs / 1000).toFixed(2),
      "ms / iteration": +(i.solveMs / i.iterations).toFixed(1), "total s": +(i.totalMs / 1000).toFixed(1),
      "CG steps / iteration": wUpdate === "cg" ? +(cgSteps / i.iterations).toFixed(1) : "-",
      "‖W‖₁ / factored": +(i.l1Norm / factoredL1).toFixed(4), "output error / ε": +(i.outputError / i.epsilon).toFixed(4),
      load: `${loadBefore} → ${load()}`,
    });
  }
}
console.log("MNIST layer 1, ε = 0.05‖Y‖, one thread: factored against CG weight update");
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/dense-cg-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`wrote ${file}`);
