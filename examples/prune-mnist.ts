// The main job on built-in data: prune the bundled MNIST models in parallel and cascade mode and
// print what it did, next to magnitude pruning at the same per-layer nonzeros: first the MLP
// (models/mnist-mlp, 784-300-100-10, dropout-trained; reweighted ℓ1, pruneNetwork's default, and
// plain ℓ1, with SparseGPT and Wanda at the same per-layer nonzeros), then the CNN (models/mnist-cnn, conv layers included). Run: npm run demo [-- --samples 2000 --out dir]; with --out, each pruned CNN is
// written there as a TF.js LayersModel (<dir>/cnn-parallel/, <dir>/cnn-cascade/). --quick (what the
// test runs): 150 calibration digits unless --samples says otherwise, and every 4th test digit (500).
import { writeLayersModelGraph, type NetworkProgress } from "../bindings/index.ts";
import { writeLayersModelDir } from "../bindings/node/files.ts";
import { cnnLayerTable, convErrorTable, loadCnnContext, pruneCnnAndCompare } from "./cnn-report.ts";
import { everyNthTestDigit, loadMnist } from "./mnist-data.ts";
import { baselineRows, loadContext, printRows, pruneAndCompare, type PrunedRow } from "./mnist-report.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, received ${process.argv[i + 1]}`);
  return v;
}
const quick = process.argv.includes("--quick");
const samples = arg("samples", quick ? 150 : 2000);
const parallelGain = arg("parallel-gain", 0.05);
const cascadeGain = arg("cascade-gain", 0.1);
const cnnParallelGain = arg("cnn-parallel-gain", 0.05);
const cnnCascadeGain = arg("cnn-cascade-gain", 0.2);
const outIndex = process.argv.indexOf("--out");
const outDir = outIndex >= 0 ? process.argv[outIndex + 1] : undefined;

function progress(p: NetworkProgress): void {
  if (!process.stderr.isTTY) return;
  const text = p.phase === "done" ? `layer ${p.layer + 1}/${p.layers} (${p.name}) done` : `layer ${p.layer + 1}/${p.layers} (${p.name}) iteration ${p.iteration}`;
  process.stderr.write(`\r  ${text.padEnd(60)}`);
}

const ctx = loadContext(undefined, quick ? everyNthTestDigit(loadMnist(), 4) : loadMnist());
const testDigits = `${ctx.data.testLabels.length} held-out digits${quick ? " (every 4th: --quick)" : ""}`;
console.log(`net-trim: pruning models/mnist-mlp (${ctx.network.inputSize}-${ctx.network.layers.map((l) => l.units).join("-")}) on ${samples} training digits;`);
console.log(`test set: ${testDigits}, accuracy before pruning ${(100 * ctx.originalAccuracy).toFixed(2)}%\n`);

const rows: PrunedRow[] = [];
const guarantees: string[] = [];
// pruneNetwork's default (3 reweighting rounds, NETWORK_REWEIGHT) beside the plain ℓ1 program at
// the same gain shows what the rounds buy.
for (const [label, options] of [
  [`parallel, gain ${parallelGain}, reweighted`, { mode: "parallel" as const, epsilonGain: parallelGain }],
  [`parallel, gain ${parallelGain}, plain l1`, { mode: "parallel" as const, epsilonGain: parallelGain, layerOptions: { reweight: { rounds: 0 } } }],
  [`cascade, gain ${cascadeGain}, reweighted`, { mode: "cascade" as const, epsilonGain: cascadeGain }],
] as const) {
  const { netTrim, result } = await pruneAndCompare(ctx, samples, label, { ...options, onProgress: progress });
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(64) + "\r");
  // SparseGPT, Wanda and magnitude pruning at the same per-layer nonzeros, with their times.
  rows.push(netTrim, ...baselineRows(ctx, samples, label, netTrim.nnz));
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

// The CNN: conv layers pruned by the operator-form conv solver, in this thread.
const cnn = loadCnnContext(ctx.data);
console.log(`\nnet-trim: pruning models/mnist-cnn (conv 6@5×5 → pool → conv 16@5×5 → pool → dense 120 → logits 10) on ${samples} training digits;`);
console.log(`test set: the same ${testDigits}, accuracy before pruning ${(100 * cnn.originalAccuracy).toFixed(2)}%\n`);
const cnnRows: PrunedRow[] = [];
for (const [mode, gain] of [["parallel", cnnParallelGain], ["cascade", cnnCascadeGain]] as const) {
  const label = `${mode}, gain ${gain}, reweighted`;
  const c = await pruneCnnAndCompare(cnn, samples, label, { mode, epsilonGain: gain, onProgress: progress });
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(64) + "\r");
  cnnRows.push(c.netTrim, c.magnitude);
  console.log(`CNN ${label}: per layer`);
  console.table(cnnLayerTable(c.result));
  console.log(`CNN ${label}: each conv layer's output error on the test digits, only its weights replaced`);
  console.table(convErrorTable(c.convErrors));
  if (outDir) writeLayersModelDir(`${outDir}/cnn-${mode}`, writeLayersModelGraph(cnn.modelJson, c.result.graph, { method: `Net-Trim ${label}` }));
}
console.log("\nWhole CNN on the test digits (no fine-tuning):");
printRows(cnnRows, cnn.originalAccuracy);
