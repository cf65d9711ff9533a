// The main job on built-in data: prune the bundled MNIST model (models/mnist-mlp,
// 784-300-100-10, dropout-trained) in parallel and cascade mode and print what it did, next to
// magnitude pruning at the same per-layer nonzeros. Run: npm run demo [-- --samples 2000]
import type { NetworkProgress } from "../bindings/index.ts";
import { loadContext, printRows, pruneAndCompare, type PrunedRow } from "./mnist-report.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, received ${process.argv[i + 1]}`);
  return v;
}
const samples = arg("samples", 2000);
const parallelGain = arg("parallel-gain", 0.05);
const cascadeGain = arg("cascade-gain", 0.03);

function progress(p: NetworkProgress): void {
  if (!process.stderr.isTTY) return;
  const text = p.phase === "done" ? `layer ${p.layer + 1}/${p.layers} (${p.name}) done` : `layer ${p.layer + 1}/${p.layers} (${p.name}) iteration ${p.iteration}`;
  process.stderr.write(`\r  ${text.padEnd(60)}`);
}

const ctx = loadContext();
console.log(`net-trim: pruning models/mnist-mlp (${ctx.network.inputSize}-${ctx.network.layers.map((l) => l.units).join("-")}) on ${samples} training digits;`);
console.log(`test set: 2000 held-out digits, accuracy before pruning ${(100 * ctx.originalAccuracy).toFixed(2)}%\n`);

const rows: PrunedRow[] = [];
const guarantees: string[] = [];
for (const [label, options] of [
  [`parallel, gain ${parallelGain}`, { mode: "parallel" as const, epsilonGain: parallelGain }],
  [`cascade, gain ${cascadeGain}`, { mode: "cascade" as const, epsilonGain: cascadeGain }],
] as const) {
  const { netTrim, magnitude, result } = await pruneAndCompare(ctx, samples, label, { ...options, onProgress: progress });
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(64) + "\r");
  rows.push(netTrim, magnitude);
  const g = result.guarantee;
  guarantees.push(`${label}: end-to-end logit error on the calibration digits ${g.measuredError.toFixed(3)} ≤ ${g.theorem} bound ${g.bound.toFixed(3)}: ${g.holds ? "holds" : "VIOLATED"}`);
  console.log(`${label}: per layer`);
  console.table(result.layers.map((l) => ({
    layer: l.name, kind: l.kind, status: l.status, "nnz before": l.nnzBefore, "nnz after": l.nnzAfter,
    "kept %": +(100 * l.keptFraction).toFixed(1), "rel. error": +l.relativeError.toFixed(4), iterations: l.iterations,
    "time s": +(l.timeMs / 1000).toFixed(2), simd: l.info.simd,
  })));
}
console.log("\nWhole network on the test digits (no fine-tuning):");
printRows(rows, ctx.originalAccuracy);
for (const line of guarantees) console.log(line);
