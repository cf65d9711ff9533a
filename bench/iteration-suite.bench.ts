// The iteration target of issue 8 on a suite: with default options, how many iterations to
// weights whose ‖W‖₁ is within 1% of a long run's (whose certified gap is reported) and whose
// output error after the activation is within ε(1 + 1e-3)? Layers: MNIST layers 1 and 2 of the
// bundled model (dropout-trained) and of models/mnist-mlp-nodropout at P = 2000 and 8000; seeded
// random relu and linear layers, plain and with inputs, outputs and ε × 1e-3.
// Run: npm run bench:iterations [-- --quick] [-- --suffix -s8]. Prints a table; writes
// bench/results/iteration-suite<suffix>-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { matrix, pruneLayer } from "../bindings/index.ts";
import { mnistLayer2Problem, mnistLayerProblem, MNIST_MLP_DIR } from "../examples/layer-data.ts";
import { randomLayer } from "../test/helpers/problems.ts";

interface Case { name: string; P: number; N: number; M: number; input: Float32Array; output: Float32Array; linear: boolean }

const quick = process.argv.includes("--quick");
const cases: Case[] = [];
const noDropout = path.join(path.dirname(MNIST_MLP_DIR), "mnist-mlp-nodropout");
for (const [model, dir] of [["dropout", MNIST_MLP_DIR], ["no dropout", noDropout]] as const) {
  for (const P of quick ? [2000] : [2000, 8000]) {
    const l1 = mnistLayerProblem(P, dir), l2 = mnistLayer2Problem(P, dir);
    cases.push({ name: `MNIST ${model} layer 1`, ...l1, linear: false });
    cases.push({ name: `MNIST ${model} layer 2`, ...l2, linear: false });
  }
}
for (const [P, N, M, linear] of [[500, 40, 12, false], [2000, 200, 50, false], [1000, 100, 30, false], [500, 40, 10, true]] as const) {
  const r = randomLayer(11, P, N, M, { linear, zeroInputs: 0.5 });
  for (const factor of [1, 1e-3]) {
    cases.push({
      name: `random ${linear ? "linear" : "relu"} ${P}×${N}→${M}${factor === 1 ? "" : " ×1e-3"}`, P, N, M, linear,
      input: r.input.map((v) => v * factor), output: r.output.map((v) => v * factor),
    });
  }
}

const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  const X = matrix(c.input, c.P, c.N), Y = matrix(c.output, c.P, c.M);
  const kind = c.linear ? "linear" : "relu";
  const r = await pruneLayer(X, Y, { kind });
  const long = await pruneLayer(X, Y, { kind, epsilon: r.info.epsilon, relTol: 1e-5, dualRelTol: 1e-4, maxIter: quick ? 400 : 1000 });
  const ratio = r.info.l1Norm / long.info.l1Norm;
  const errorRatio = r.info.outputError / r.info.epsilon;
  rows.push({
    layer: c.name, P: c.P, status: r.status, iterations: r.info.iterations,
    "‖W‖₁ / long run's": +ratio.toFixed(4), "long run's certified gap": +long.info.relativeGap.toFixed(4), "long run's iterations": long.info.iterations,
    "output error / ε": +errorRatio.toFixed(4),
    "meets (≤ 80, 1%, 1e-3)": r.info.iterations <= 80 && ratio <= 1.01 && errorRatio <= 1 + 1e-3,
  });
  console.log(JSON.stringify(rows[rows.length - 1]));
}
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const suffixAt = process.argv.indexOf("--suffix");
const suffix = suffixAt >= 0 ? process.argv[suffixAt + 1] : "";
const file = `bench/results/iteration-suite${suffix}-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`wrote ${file}`);
