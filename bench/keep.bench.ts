// The whole-network target `keep` (issue 11): the per-layer allocation (plain ℓ1 ladders of gains
// and a greedy walk on logit error, reweighting only where the search lands; parallel mode's
// default) against one common gain (bisection, each probe a whole run) at the same kept share, on
// the MNIST MLPs, plain ℓ1 and reweighted, each followed by SparseGPT at the per-layer nonzeros it
// reached: kept share, test accuracy, relative logit error on the test digits, time, in one run.
// Run: npm run bench:keep [-- --samples 1000] [-- --keep 0.1] [-- --models dropout,nodropout]
//      [-- --rounds 0,3] (reweighting rounds; 0 = plain ℓ1) [-- --max-iter 300] (per solve, both
//      allocations alike; default the library's 2000) [-- --tag name]
//      [-- --allocations per-layer,common-gain] [-- --walks continued] (per-layer with reweighting:
//      which of allocateKeep's schemes, KEEP_WALKS: every-rung,plain-path,continued to compare
//      session 5's, session 6's and the default in one run)
// Writes bench/results/keep[-tag]-<date>.json after every row (never overwrite an earlier file: use --tag).
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { baselineRows, loadContext, printRows, pruneAndCompare, type PrunedRow } from "../examples/mnist-report.ts";
import { MNIST_MLP_DIR } from "../examples/layer-data.ts";
import type { KeepSearch, NetworkOptions } from "../bindings/index.ts";
import { allocateKeep, KEEP_WALKS, type KeepWalk } from "../bindings/network/keep-allocation.ts";

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const P = Number(argument("samples") ?? 1000);
const keeps = (argument("keep") ?? "0.1").split(",").map(Number);
const roundsList = (argument("rounds") ?? "0,3").split(",").map(Number);
const modelNames = (argument("models") ?? "dropout").split(",");
const maxIter = argument("max-iter") === undefined ? undefined : Number(argument("max-iter"));
const allocations = (argument("allocations") ?? "per-layer,common-gain").split(",") as ("per-layer" | "common-gain")[];
const walks = (argument("walks") ?? "continued").split(",") as KeepWalk[];
const unknownWalk = walks.find((w) => !KEEP_WALKS.includes(w));
if (unknownWalk) throw new Error(`--walks: expected some of ${KEEP_WALKS.join(", ")}, received ${unknownWalk}`);
const MODELS: Record<string, string> = {
  dropout: MNIST_MLP_DIR,
  nodropout: path.join(path.dirname(MNIST_MLP_DIR), "mnist-mlp-nodropout"),
};
const load = () => os.loadavg().map((v) => +v.toFixed(2));

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const tag = argument("tag") === undefined ? "" : `-${argument("tag")}`;
const file = new URL(`./results/keep${tag}-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
// Written after every run, so that a run cut short (the machine is shared) keeps what it measured.
const save = () => writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, samples: P, maxIter, uptime: execSync("uptime").toString().trim(), runs,
}, null, 2));
const runs: {
  model: string; keep: number; rounds: number; allocation: string; walk?: KeepWalk; row: PrunedRow; cpuS: number; sparseGpt: PrunedRow; search: KeepSearch; solves: number; loadBefore: number[]; loadAfter: number[];
}[] = [];
/** Layer solves the search made (each reweighted one is 1 + rounds ADMM solves): whole runs × layers, or rungs + probes. */
const solvesOf = (k: KeepSearch, layers: number) => (k.allocation === "common-gain" ? k.probes.length * layers : k.ladders.reduce((s, l) => s + l.length, 0) + k.probes.length);
for (const model of modelNames) {
  if (!MODELS[model]) throw new Error(`--models: expected dropout and/or nodropout, received ${model}`);
  const ctx = loadContext(MODELS[model]);
  console.log(`\n# ${model}: MNIST 784-300-100-10, ${P} calibration digits, ${maxIter ?? "default"} iterations at most per solve, unpruned test accuracy ${(100 * ctx.originalAccuracy).toFixed(2)}%`);
  const rows: PrunedRow[] = [];
  for (const rounds of roundsList) {
    for (const keep of keeps) {
      // Per-layer with reweighting: one row per scheme asked (allocateKeep called directly with it).
      const variants = allocations.flatMap((allocation): { allocation: typeof allocation; walk?: KeepWalk }[] =>
        allocation === "per-layer" && rounds > 0 ? walks.map((walk) => ({ allocation, walk })) : [{ allocation }]);
      for (const { allocation, walk } of variants) {
        const label = `keep ${keep}, ${allocation}${walk ? ` (${walk})` : ""}, ${rounds > 0 ? `${rounds} reweighting rounds` : "plain l1"}`;
        const loadBefore = load();
        // CPU time of this process (the solves run in this thread): less disturbed by the shared
        // machine's load than the wall time, which the row's time is.
        const cpuBefore = process.cpuUsage();
        const layerOptions = { ...(maxIter !== undefined ? { maxIter } : {}), reweight: { rounds } };
        const prune = walk && ((network: typeof ctx.network, x: { data: Float32Array; rows: number }, options: NetworkOptions) => allocateKeep(network, x.data, x.rows, keep, options, walk));
        const { netTrim, result } = walk
          ? await pruneAndCompare(ctx, P, label, { mode: "parallel", workers: 0, layerOptions }, prune)
          : await pruneAndCompare(ctx, P, label, { mode: "parallel", keep, keepAllocation: allocation, workers: 0, layerOptions });
        const { user, system } = process.cpuUsage(cpuBefore);
        const cpuS = (user + system) / 1e6;
        const [sparseGpt] = baselineRows(ctx, P, label, netTrim.nnz);
        rows.push(netTrim, sparseGpt);
        const search = result.keep!;
        runs.push({ model, keep, rounds, allocation, walk, row: netTrim, cpuS, sparseGpt, search, solves: solvesOf(search, netTrim.nnz.length), loadBefore, loadAfter: load() });
        save();
        const gains = search.allocation === "per-layer" ? search.gains : [search.gain];
        console.log(`${label}: kept ${netTrim.keptPercent.toFixed(2)}% (${netTrim.nnz.join(" / ")}), gains ${gains.map((g) => +g.toPrecision(3)).join(", ")}, ${(100 * netTrim.testAccuracy).toFixed(2)}% / ${netTrim.relativeLogitError.toFixed(4)} in ${netTrim.timeS.toFixed(1)} s, CPU ${cpuS.toFixed(1)} s (${runs.at(-1)!.solves} layer solves); SparseGPT ${(100 * sparseGpt.testAccuracy).toFixed(2)}% / ${sparseGpt.relativeLogitError.toFixed(4)}; load ${load().join(" ")}`);
      }
    }
  }
  printRows(rows, ctx.originalAccuracy);
}

console.log(`\nwrote ${file.pathname}`);
