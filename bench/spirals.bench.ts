// The NIPS supplement's spiral table (SPEC §6) rerun: the 2·200·200·2 ReLU network of
// models/spirals-mlp (examples/train-spirals.ts) pruned in cascade mode (γ = 1.1, κ = 1) on its
// 2,000 training spirals, at the largest first-layer gain of a sweep whose relative logit error
// on those samples is below 0.02; then the same with 3 rounds of reweighted ℓ1.
// Run: npm run bench:spirals. Writes bench/results/spirals-<date>.json.
// Counts: nonzero kernel weights per layer (as the paper's 400 / 39,668 / 399 of 400 / 40,000 /
// 400: biases not included), biases reported apart. Logits and accuracies are recomputed here
// from the returned weights (examples/spirals.ts logitsOf, f64), on training and test spirals.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { matrix, pruneNetwork, type DenseNetwork, type NetworkOptions } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import {
  logitsOf, nonzeros, relativeDifference, SPIRAL_TEST_SEED, SPIRAL_TRAIN_SEED, spiralAccuracy, spirals,
} from "../examples/spirals.ts";

const TARGET = 0.02;
const GAINS = [0.0002, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005];
const PAPER = { before: [400, 39668, 399], after: [399, 1991, 113], error: "< 0.02" };

const network = readLayersModelDir(fileURLToPath(new URL("../models/spirals-mlp/model.json", import.meta.url))).network;
const train = spirals(SPIRAL_TRAIN_SEED, 1000);
const test = spirals(SPIRAL_TEST_SEED, 1000);
const P = train.labels.length;
const originalTrain = logitsOf(network.layers, train.x, P);
const originalTest = logitsOf(network.layers, test.x, test.labels.length);

function describe(net: DenseNetwork) {
  const logitsTrain = logitsOf(net.layers, train.x, P);
  const logitsTest = logitsOf(net.layers, test.x, test.labels.length);
  return {
    kernelNonzeros: net.layers.map((l) => nonzeros(l.kernel)),
    biasNonzeros: net.layers.map((l) => nonzeros(l.bias)),
    relativeLogitError: relativeDifference(logitsTrain, originalTrain),
    relativeLogitErrorTest: relativeDifference(logitsTest, originalTest),
    trainAccuracy: spiralAccuracy(logitsTrain, train.labels),
    testAccuracy: spiralAccuracy(logitsTest, test.labels),
  };
}

const before = describe(network);
const sweeps: Record<string, unknown[]> = {};
const chosen: Record<string, unknown> = {};
const settings: Record<string, Partial<NetworkOptions>> = {
  cascade: { layerOptions: { reweight: { rounds: 0 } } }, // plain ℓ1 (the paper's program)
  "cascade + reweight 3": { layerOptions: { reweight: { rounds: 3 } } },
};
for (const [name, extra] of Object.entries(settings)) {
  sweeps[name] = [];
  for (const gain of GAINS) {
    const t0 = performance.now();
    const r = await pruneNetwork(network, matrix(train.x, P, 2), { mode: "cascade", epsilonGain: gain, workers: 0, ...extra });
    const row = { gain, status: r.status, timeMs: Math.round(performance.now() - t0), ...describe(r.network), guaranteeHolds: r.guarantee.holds };
    sweeps[name].push(row);
    console.log(name, JSON.stringify(row));
    if (row.relativeLogitError < TARGET) chosen[name] = row;
  }
}

const rows = [
  { network: "paper (NIPS supplement)", nonzeros: `${PAPER.before.join(" / ")} → ${PAPER.after.join(" / ")}`, error: PAPER.error },
  { network: "unpruned here", nonzeros: before.kernelNonzeros.join(" / "), error: "0", train: before.trainAccuracy, test: before.testAccuracy },
  ...Object.entries(chosen).map(([name, r]) => {
    const row = r as ReturnType<typeof describe> & { gain: number };
    return {
      network: `${name}, gain ${row.gain}`, nonzeros: row.kernelNonzeros.join(" / "), biases: row.biasNonzeros.join(" / "),
      error: row.relativeLogitError.toFixed(4), testError: row.relativeLogitErrorTest.toFixed(4), train: row.trainAccuracy, test: row.testAccuracy,
    };
  }),
];
console.table(rows);

const dir = new URL("./results/", import.meta.url);
mkdirSync(dir, { recursive: true });
const file = `spirals-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(new URL(file, dir), JSON.stringify({
  date: new Date().toISOString(), node: process.version, target: TARGET, samples: P, paper: PAPER, before, chosen, sweeps, table: rows,
}, null, 1));
console.log(`wrote bench/results/${file}`);
