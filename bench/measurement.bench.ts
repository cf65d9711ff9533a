// What pruneNetwork's end-to-end measurement (compareSignals) costs before and after it reused the
// layer outputs a run computed and skipped a pruned layer's zero weights, on the no-dropout MNIST
// MLP at P calibration digits, magnitude-pruned to the per-layer counts of the reweighted
// parallel g = 0.1 row (bench:baselines). Ratios within this one run; the load average is printed.
// Run: npm run bench:measurement [-- --samples 8000] [-- --tag name]
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import { Bench } from "tinybench";
import { forward, magnitudePrune } from "../bindings/index.ts";
import { compareSignals } from "../bindings/network/guarantee.ts";
import { applyLayer, applyPrunedLayer, distance } from "../bindings/network/forward.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { MNIST_MLP_DIR } from "../examples/layer-data.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const P = Number(argument("samples") ?? 8000);
const { network } = readLayersModelDir(path.join(path.dirname(MNIST_MLP_DIR), "mnist-mlp-nodropout", "model.json"));
const x = loadMnist().trainX.subarray(0, P * PIXELS);
// Kernel + bias nonzeros of the reweighted no-dropout parallel g = 0.1 row (14.57% kept).
const pruned = magnitudePrune(network, [32_492, 6_161, 192]);
const L = network.layers.length;
const originals = forward(network, x, P);
const prunedSignals = forward(pruned, x, P);

// The measurement as it was: both networks run layer by layer, every weight visited.
function measuredBefore(): number[] {
  let o = x, q = x;
  const errors: number[] = [];
  for (let i = 0; i < L; i++) {
    const relu = i < L - 1 && network.layers[i].activation === "relu";
    o = applyLayer(network.layers[i], o, P, relu);
    q = applyLayer(pruned.layers[i], q, P, relu);
    errors.push(distance(q, o));
  }
  return errors;
}

const results: Record<string, number[]> = {};
const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 0 });
bench
  .add("before: both networks run", () => { results.before = measuredBefore(); })
  .add("parallel on the pool: original outputs reused, pruned layers skip zeros", () => {
    results.pool = compareSignals(network, pruned, x, P, originals).errors;
  })
  .add("cascade: both reused", () => { results.cascade = compareSignals(network, pruned, x, P, originals, prunedSignals).errors; })
  .add("one pruned layer-1 pass, zeros skipped (reference)", () => { applyPrunedLayer(pruned.layers[0], x, P, true); })
  .add("one layer-1 pass, every weight (reference)", () => { applyLayer(pruned.layers[0], x, P, true); });
const loadBefore = loadavg()[0];
await bench.run();
const loadAfter = loadavg()[0];
const meanMs = (k: number) => (bench.tasks[k].result as unknown as { latency?: { mean: number } }).latency?.mean ?? NaN;
const rows = bench.tasks.map((t, k) => ({ task: t.name, "mean ms": +meanMs(k).toFixed(0), "× before": +(meanMs(k) / meanMs(0)).toFixed(3) }));
console.log(`no-dropout MNIST MLP, P = ${P}, pruned to 32,492 / 6,161 / 192 nonzeros; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
console.table(rows);
// The same errors whichever way they are measured.
const same = ["pool", "cascade"].every((k) => results[k].every((e, i) => e === results.before[i]));
console.log(`errors identical to before's: ${same}`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const tag = argument("tag") === undefined ? "" : `-${argument("tag")}`;
const file = new URL(`./results/measurement${tag}-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, samples: P, loadBefore, loadAfter, rows, errorsIdentical: same, errors: results }, null, 2));
console.log(`wrote ${file.pathname}`);
