// Net-Trim (and Net-Trim + the refit on the support) against SparseGPT, Wanda and magnitude
// pruning at equal per-layer nonzeros (issue 11).
// Run: npm run bench:baselines [-- --sweep full] [-- --samples 8000] [-- --models dropout,nodropout]
//      [-- --reweight 1,3] (each row again with that many reweighting rounds; the plain row, labelled
//      without rw=, asks for 0 rounds explicitly (pruneNetwork's default is 3 rounds); --sweep reweight:
//      parallel g = 0.1 and 0.2 only, for the reweighted ℓ1 of issue 11) [-- --delta 0.1]
//      [-- --gains 0.1,0.15] [-- --cascade-gains 0.1] (these gains instead of the sweep's)
//      [-- --tag name] (added to the results file's name) [-- --threads 1,2] (pruneNetwork's threads)
//      [-- --gamma 1.1,2] (each cascade row once per γ)
//      [-- --compare-with DIR] (every row twice, alternating which goes first: pruneNetwork of the
//      net-trim copy in DIR, e.g. an earlier commit's files, labelled "old", and this one's)
// For both MNIST MLPs (the bundled dropout-trained one and models/mnist-mlp-nodropout), P
// calibration digits (default 8000), each Net-Trim row of the sweep (quick: 2 rows per model;
// full: parallel and cascade gains spanning ~60% to ~5% kept) is followed by the three baselines
// at the per-layer nonzeros it reached, and by the same run refitted (pruneNetwork's `refit`,
// applied to the finished run; its time includes the Net-Trim run's): test accuracy on the 2,000 held-out digits, relative logit
// error against the unpruned network, time, all in this one run. Then the issue's targets, row
// by row, for Net-Trim and for Net-Trim + refit. Writes bench/results/baselines-<sweep>-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { loadavg } from "node:os";
import { baselineRows, loadContext, printRows, pruneAndCompare, refitRow, type PrunedRow } from "../examples/mnist-report.ts";
import { MNIST_MLP_DIR } from "../examples/layer-data.ts";
import { pruneNetwork, type NetworkOptions } from "../bindings/index.ts";

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const sweep = argument("sweep") ?? "quick";
if (sweep !== "quick" && sweep !== "full" && sweep !== "reweight") throw new Error(`--sweep: expected quick, full or reweight, received ${sweep}`);
// Reweighting rounds to run each row with besides the plain solve (0).
const reweightRounds = [
  ...(process.argv.includes("--skip-plain") ? [] : [0]), // --skip-plain: the reweighted rows only
  ...(argument("reweight") ?? "").split(",").filter((x) => x !== "").map(Number),
];
const delta = argument("delta") === undefined ? undefined : Number(argument("delta"));
const P = Number(argument("samples") ?? 8000);
const modelNames = (argument("models") ?? "nodropout,dropout").split(",");

const MODELS: Record<string, string> = {
  dropout: MNIST_MLP_DIR,
  nodropout: path.join(path.dirname(MNIST_MLP_DIR), "mnist-mlp-nodropout"),
};
const SWEEPS: Record<string, { parallel: number[]; cascade: number[] }> = {
  quick: { parallel: [0.1], cascade: [0.05] },
  full: { parallel: [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85], cascade: [0.01, 0.03, 0.1, 0.2, 0.4] },
  reweight: { parallel: [0.1, 0.2], cascade: [] },
};
const gainList = (name: string) => (argument(name) ?? "").split(",").filter((x) => x !== "").map(Number);
if (argument("gains") !== undefined || argument("cascade-gains") !== undefined) {
  SWEEPS[sweep] = { parallel: gainList("gains"), cascade: gainList("cascade-gains") };
}
// Every row says its rounds (the plain row asks for 0 explicitly: pruneNetwork's default is 3).
const withRounds = (label: string, options: NetworkOptions): [string, NetworkOptions][] => reweightRounds.map((rounds) =>
  rounds === 0 ? [label, { ...options, layerOptions: { reweight: { rounds: 0 } } }] : [`${label} rw=${rounds}`, { ...options, layerOptions: { reweight: { rounds, delta } } }]);
// --threads 1,2: each row once per count (pruneNetwork's `threads`: the layers solved in this
// thread split their iterations; the same weights), labelled t=n when more than one is asked for.
const threadCounts = (argument("threads") ?? "1").split(",").map(Number);
const withThreads = (label: string, options: NetworkOptions): [string, NetworkOptions][] => threadCounts.map((threads) =>
  [threadCounts.length > 1 ? `${label} t=${threads}` : label, threads === 1 ? options : { ...options, threads }]);
// --gamma 1.1,2: each cascade row once per γ (labelled γ=… when given; pruneNetwork's 1.1 otherwise).
const gammas: (number | undefined)[] = argument("gamma")?.split(",").map(Number) ?? [undefined];
const cascadeRows = (g: number): [string, NetworkOptions][] => gammas.flatMap((gamma) =>
  withRounds(`cascade g=${g}${gamma === undefined ? "" : ` γ=${gamma}`}`, { mode: "cascade", epsilonGain: g, ...(gamma === undefined ? {} : { gamma }) }));
const configs: [string, NetworkOptions][] = [
  ...SWEEPS[sweep].parallel.flatMap((g) => withRounds(`parallel g=${g}`, { mode: "parallel", epsilonGain: g })),
  ...SWEEPS[sweep].cascade.flatMap(cascadeRows),
].flatMap(([label, options]) => withThreads(label, options));
// --compare-with: each row with the other copy's pruneNetwork too, alternately before and after this one's.
const compareWith = argument("compare-with");
const oldPrune: typeof pruneNetwork | undefined = compareWith === undefined
  ? undefined
  : (await import(path.resolve(compareWith, "bindings/index.ts"))).pruneNetwork;
const runs: [string, NetworkOptions, typeof pruneNetwork][] = configs.flatMap(([label, options], k) => {
  if (!oldPrune) return [[label, options, pruneNetwork]];
  const pair: [string, NetworkOptions, typeof pruneNetwork][] = [[`${label} old`, options, oldPrune], [label, options, pruneNetwork]];
  return k % 2 === 0 ? pair : pair.reverse();
});

interface Comparison {
  model: string;
  label: string;
  netTrim: PrunedRow;
  refit: PrunedRow;
  sparseGpt: PrunedRow;
  wanda: PrunedRow;
  magnitude: PrunedRow;
  /** 1-minute load average before the row and after its baselines. */
  loadBefore: number;
  loadAfter: number;
  layers: { name: string; status: string; nnzAfter: number; parameters: number; relativeError: number; iterations: number; timeMs: number; reweightNnz?: number[]; reweightIterations?: number[] }[];
}

const points = (a: number) => 100 * a;
const comparisons: Comparison[] = [];
const originals: Record<string, number> = {};
for (const model of modelNames) {
  if (!MODELS[model]) throw new Error(`--models: expected dropout and/or nodropout, received ${model}`);
  const ctx = loadContext(MODELS[model]);
  originals[model] = ctx.originalAccuracy;
  console.log(`\n# ${model}: MNIST 784-300-100-10, ${P} calibration digits, unpruned test accuracy ${points(ctx.originalAccuracy).toFixed(2)}%`);
  const rows: PrunedRow[] = [];
  for (const [label, options, prune] of runs) {
    const load = loadavg()[0];
    const { netTrim, result } = await pruneAndCompare(ctx, P, label, options, prune);
    const refit = refitRow(ctx, P, label, result, netTrim.timeS);
    const [sparseGpt, wanda, magnitude] = baselineRows(ctx, P, label, netTrim.nnz);
    rows.push(netTrim, refit, sparseGpt, wanda, magnitude);
    comparisons.push({
      model, label, netTrim, refit, sparseGpt, wanda, magnitude, loadBefore: load, loadAfter: loadavg()[0],
      layers: result.layers.map((l) => ({
        name: l.name, status: l.status, nnzAfter: l.nnzAfter, parameters: l.parameters, relativeError: l.relativeError, iterations: l.iterations, timeMs: l.timeMs,
        ...(l.info.reweight ? { reweightNnz: l.info.reweight.rounds.map((r) => r.nnz), reweightIterations: l.info.reweight.rounds.map((r) => r.iterations) } : {}),
      })),
    });
    console.log(`${label}: kept ${netTrim.keptPercent.toFixed(2)}%, Net-Trim ${points(netTrim.testAccuracy).toFixed(2)}% / ${netTrim.relativeLogitError.toFixed(4)} in ${netTrim.timeS.toFixed(1)} s; + refit ${points(refit.testAccuracy).toFixed(2)}% / ${refit.relativeLogitError.toFixed(4)} in ${refit.timeS.toFixed(1)} s; SparseGPT ${points(sparseGpt.testAccuracy).toFixed(2)}% / ${sparseGpt.relativeLogitError.toFixed(4)} in ${sparseGpt.timeS.toFixed(1)} s (${(netTrim.timeS / sparseGpt.timeS).toFixed(1)}×; CPU ${netTrim.cpuS?.toFixed(1)} s against ${sparseGpt.cpuS?.toFixed(1)} s, ${(netTrim.cpuS! / sparseGpt.cpuS!).toFixed(1)}×); iterations ${result.layers.map((l) => l.iterations).join("/")}; load ${load.toFixed(1)}`);
  }
  printRows(rows, ctx.originalAccuracy);
}

// The issue's targets, row by row, for Net-Trim as it is and for Net-Trim + refit.
const verdictsOf = (method: "netTrim" | "refit") => comparisons.map((c) => {
  const row = c[method];
  const margin = points(row.testAccuracy - c.sparseGpt.testAccuracy);
  const kept = row.keptPercent;
  const marginTarget = kept <= 12 ? 10 : kept <= 15 ? 3 : 0;
  return {
    model: c.model, row: c.label, "kept %": +kept.toFixed(2),
    "acc %": +points(row.testAccuracy).toFixed(2), "SGPT acc %": +points(c.sparseGpt.testAccuracy).toFixed(2),
    "Wanda acc %": +points(c.wanda.testAccuracy).toFixed(2), "mag. acc %": +points(c.magnitude.testAccuracy).toFixed(2),
    err: +row.relativeLogitError.toFixed(4), "SGPT err": +c.sparseGpt.relativeLogitError.toFixed(4),
    s: +row.timeS.toFixed(1), "SGPT s": +c.sparseGpt.timeS.toFixed(1),
    "acc ≥ SGPT + target": margin >= marginTarget, "margin target": marginTarget,
    "err < SGPT": row.relativeLogitError < c.sparseGpt.relativeLogitError,
    "time ≤ 10× SGPT": row.timeS <= 10 * c.sparseGpt.timeS,
    "loss points": +points(originals[c.model] - row.testAccuracy).toFixed(2),
  };
});
const verdicts = { netTrim: verdictsOf("netTrim"), refit: verdictsOf("refit") };
const overall: Record<string, Record<string, string[]>> = {};
for (const [method, rows] of Object.entries(verdicts)) {
  console.log(`\n## ${method === "refit" ? "Net-Trim + refit" : "Net-Trim"}: targets per row (accuracy margin over SparseGPT: ≥ 0 everywhere, ≥ 3 points at ≤ 15% kept, ≥ 10 at ≤ 12%)`);
  console.table(rows);
  const sparse = (model: string, keptAtMost: number, lossAtMost: number) =>
    rows.filter((v) => v.model === model && v["kept %"] <= keptAtMost && v["loss points"] <= lossAtMost).map((v) => v.row);
  overall[method] = {
    noDropoutTwelvePercentWithin1_5Points: sparse("nodropout", 12, 1.5),
    dropoutTenPercentWithin1Point: sparse("dropout", 10, 1),
  };
  console.log(`no-dropout MLP, ≤ 12% kept within 1.5 points: ${overall[method].noDropoutTwelvePercentWithin1_5Points.join(", ") || "no row"}`);
  console.log(`dropout MLP, ≤ 10% kept within 1 point: ${overall[method].dropoutTenPercentWithin1Point.join(", ") || "no row"}`);
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
// A run on one model only gets its own file, so that the two halves of a sweep can run apart.
const only = modelNames.length === 1 ? `-${modelNames[0]}` : "";
// --tag names a run apart from others of the same sweep and day.
const tag = argument("tag") === undefined ? "" : `-${argument("tag")}`;
const file = new URL(`./results/baselines-${sweep}${only}${tag}-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, samples: P, sweep, reweightRounds, delta: delta ?? "default", compareWith,
  originalAccuracy: originals, comparisons, verdicts, overall,
}, null, 2));
console.log(`\nwrote ${file.pathname}`);
