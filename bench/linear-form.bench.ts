// Linear layers solved on the samples against the reduced form (the same program on the QR
// factor of the design, bindings/wasm/reduced-engine.ts), in one run, on the bundled MNIST model:
//   logits      layer 3 (100 + bias → 10), its own input and pre-activation outputs;
//   wide linear layer 1's pre-activation (784 + bias → 300) as a linear layer (a wide linear
//               layer, e.g. before a BatchNorm or an Add).
// Run: npm run bench:linear. Prints a table and writes bench/results/linear-form-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Bench } from "tinybench";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { applyLayer } from "../bindings/network/forward.ts";
import { MNIST_MLP_DIR } from "../examples/layer-data.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

const layers = readLayersModelDir(path.join(MNIST_MLP_DIR, "model.json")).network.layers;
const { trainX } = loadMnist();

function problems(P: number) {
  const x0 = trainX.slice(0, P * PIXELS);
  const h1 = applyLayer(layers[0], x0, P, true);
  const h2 = applyLayer(layers[1], h1, P, true);
  return [
    { name: "logits 100→10", input: h2, output: applyLayer(layers[2], h2, P, false), N: 100, M: 10 },
    { name: "wide linear 784→300", input: x0, output: applyLayer(layers[0], x0, P, false), N: PIXELS, M: 300 },
  ];
}

const rows: Record<string, unknown>[] = [];
for (const P of [2000, 8000]) {
  for (const pr of problems(P)) {
    const results: Record<string, LayerResult> = {};
    const bench = new Bench({ iterations: pr.N > 200 ? 2 : 5, time: 0, warmupIterations: 1 });
    for (const form of ["samples", "reduced"] as const) {
      bench.add(form, async () => {
        results[form] = await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { kind: "linear", epsilonGain: 0.05, linearForm: form });
      });
    }
    await bench.run();
    const median = (name: string) => {
      const r = bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50?: number; mean: number } };
      return (r.latency.p50 ?? r.latency.mean) / 1000;
    };
    for (const form of ["samples", "reduced"] as const) {
      const r = results[form];
      rows.push({
        layer: pr.name, P, form, status: r.status, iterations: r.info.iterations,
        "setup s": +(r.info.setupMs / 1000).toFixed(3),
        "ms / iteration": +(r.info.solveMs / Math.max(r.info.iterations, 1)).toFixed(2),
        "median total s": +median(form).toFixed(3),
        "‖W‖₁": +r.info.l1Norm.toFixed(3), "output error / ε": +(r.info.outputError / r.info.epsilon).toFixed(5),
        "speed-up": form === "reduced" ? +(median("samples") / median("reduced")).toFixed(2) : null,
      });
    }
  }
}
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/linear-form-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
console.log(`wrote ${file}`);
