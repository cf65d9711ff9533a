// The network benchmark (issue 4). Run: npm run bench:network  (-- --quick: P = 1000, fewer rows)
// Prunes the bundled MNIST model (784-300-100-10, dropout-trained) with all 8,000 training digits
// as calibration data: parallel gains {0.02, 0.05, 0.1}, cascade gains {0.01, 0.03, 0.05}, density
// targets 10% and 5%; each next to magnitude pruning at the same per-layer nonzeros. Then
// parallel against cascade at equal final error (interpolated along each sweep).
// Prints tables and writes bench/results/network-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadContext, printRows, pruneAndCompare, type PrunedRow } from "../examples/mnist-report.ts";
import type { NetworkOptions } from "../bindings/index.ts";

const quick = process.argv.includes("--quick");
const samplesArg = process.argv.indexOf("--samples");
const P = samplesArg >= 0 ? Number(process.argv[samplesArg + 1]) : quick ? 1000 : 8000;

const ctx = loadContext();
console.log(`MNIST model 784-300-100-10, ${P} calibration digits, 2000 test digits; unpruned test accuracy ${(100 * ctx.originalAccuracy).toFixed(2)}%`);

// --parallel-gains 0.2,0.3 / --cascade-gains … / --densities …: run only these rows (results file gets a "-custom" suffix).
function listArg(name: string): number[] | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(",").map(Number) : undefined;
}
const custom = ["parallel-gains", "cascade-gains", "densities"].some((n) => process.argv.includes(`--${n}`));
const configs: [string, NetworkOptions][] = custom ? [
  ...(listArg("parallel-gains") ?? []).map((g) => [`parallel g=${g}`, { mode: "parallel", epsilonGain: g }] as [string, NetworkOptions]),
  ...(listArg("cascade-gains") ?? []).map((g) => [`cascade g=${g}`, { mode: "cascade", epsilonGain: g }] as [string, NetworkOptions]),
  ...(listArg("densities") ?? []).map((d) => [`parallel density ${d * 100}%`, { mode: "parallel", density: d }] as [string, NetworkOptions]),
] : [
  ...(quick ? [0.05] : [0.02, 0.05, 0.1]).map((g) => [`parallel g=${g}`, { mode: "parallel", epsilonGain: g }] as [string, NetworkOptions]),
  ...(quick ? [0.03] : [0.01, 0.03, 0.05]).map((g) => [`cascade g=${g}`, { mode: "cascade", epsilonGain: g }] as [string, NetworkOptions]),
  ...(quick ? [0.1] : [0.1, 0.05]).map((d) => [`parallel density ${d * 100}%`, { mode: "parallel", density: d }] as [string, NetworkOptions]),
];

const rows: PrunedRow[] = [];
const records: Record<string, unknown>[] = [];
for (const [label, options] of configs) {
  const { netTrim, magnitude, result } = await pruneAndCompare(ctx, P, label, options);
  rows.push(netTrim, magnitude);
  records.push({
    label, options, netTrim, magnitude,
    layers: result.layers.map((l) => ({ name: l.name, status: l.status, nnzBefore: l.nnzBefore, nnzAfter: l.nnzAfter, epsilon: l.epsilon, relativeError: l.relativeError, iterations: l.iterations, timeMs: l.timeMs })),
    guarantee: result.guarantee,
    netTrimBeatsMagnitude: { logitError: netTrim.relativeLogitError < magnitude.relativeLogitError, accuracy: netTrim.testAccuracy >= magnitude.testAccuracy },
  });
  console.log(`${label}: ${result.timeMs.toFixed(0)} ms, kept ${netTrim.keptPercent.toFixed(2)}%, statuses ${result.layers.map((l) => l.status).join("/")}, ${result.guarantee.theorem} ${result.guarantee.holds ? "holds" : "VIOLATED"}`);
}
console.log(`\n## Net-Trim against magnitude pruning at equal per-layer nnz (P = ${P})`);
printRows(rows, ctx.originalAccuracy);

// Parallel against cascade at equal final (test) logit error: interpolate kept % along each sweep.
function interpolate(points: PrunedRow[], error: number): number | null {
  const sorted = [...points].sort((a, b) => a.relativeLogitError - b.relativeLogitError);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i], b = sorted[i + 1];
    if (error >= a.relativeLogitError && error <= b.relativeLogitError) {
      const t = (Math.log(error) - Math.log(a.relativeLogitError)) / (Math.log(b.relativeLogitError) - Math.log(a.relativeLogitError));
      return a.keptPercent + t * (b.keptPercent - a.keptPercent);
    }
  }
  return null;
}
const parallelRows = rows.filter((r) => r.method.startsWith("Net-Trim parallel g="));
const cascadeRows = rows.filter((r) => r.method.startsWith("Net-Trim cascade"));
const equalError = cascadeRows.map((c) => ({
  "relative logit error": +c.relativeLogitError.toFixed(4),
  "cascade kept %": +c.keptPercent.toFixed(2),
  "cascade acc %": +(100 * c.testAccuracy).toFixed(2),
  "cascade time s": +c.timeS.toFixed(1),
  "parallel kept % (interpolated)": interpolate(parallelRows, c.relativeLogitError)?.toFixed(2) ?? "outside the parallel sweep",
}));
console.log("\n## Parallel against cascade at equal final error");
console.table(equalError);

const ninety = rows.filter((r) => r.method.startsWith("Net-Trim") && r.keptPercent <= 10);
const bestNinety = ninety.sort((a, b) => b.testAccuracy - a.testAccuracy)[0];
console.log(bestNinety
  ? `\n≥ 90% removed: best Net-Trim row "${bestNinety.method}" keeps ${bestNinety.keptPercent.toFixed(2)}% at ${(100 * bestNinety.testAccuracy).toFixed(2)}% test accuracy (${(100 * (bestNinety.testAccuracy - ctx.originalAccuracy)).toFixed(2)} points)`
  : "\nno row removed ≥ 90% of the weights");

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(`./results/network-${quick ? "quick-" : ""}${new Date().toISOString().slice(0, 10)}${custom ? "-custom" : ""}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, samples: P, originalAccuracy: ctx.originalAccuracy, records, equalError }, null, 2));
console.log(`\nwrote ${file.pathname}`);
