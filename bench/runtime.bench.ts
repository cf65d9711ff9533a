// The sparse runtime against the alternatives a JS user has, on the bundled MNIST MLP
// (784-300-100-10) and CNN pruned by magnitude per layer (kernel and bias together) to 20%, 10%
// and 5% kept: latency per sample at batch 1, 16 and 256 for net-trim's runtime (kernels chosen
// by the break-even), the same runtime with its dense SIMD kernels forced, tfjs-backend-wasm (1
// thread, SIMD), onnxruntime-web (wasm, 1 thread; the pruned model written dense and with sparse
// initializers by our ONNX writer; the ONNX files are torch.onnx exports of the same weights,
// scripts/make-runtime-bench-onnx.py) and plain JS (forwardGraph). Inputs: MNIST test digits.
// Then the break-even: random layers on inputs half zeros (as after a ReLU), sparse vs dense kernels over
// densities, the density where they cost the same (bindings/runtime/break-even.ts uses it).
// Run: npm run bench:runtime [-- --quick]. Prints tables, writes bench/results/runtime-<date>.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-web";
import { Bench } from "tinybench";
import {
  buildGraph, createRuntime, forwardGraph, isPrunable, magnitudePruneGraph, parseLayersModelGraph, parseOnnxModel,
  writeLayersModelGraph, writeOnnxModel, type ModelGraph,
} from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { initTfjsWasm } from "./tfjs-admm.ts";

const quick = process.argv.includes("--quick");
const TIME = quick ? 100 : 400;
const FRACTIONS = [0.2, 0.1, 0.05];
const BATCHES = [1, 16, 256];
ort.env.wasm.numThreads = 1;
const tfInfo = await initTfjsWasm();
const digits = loadMnist().testX;

function pruned(graph: ModelGraph, fraction: number): ModelGraph {
  const keep: Record<string, number> = {};
  for (const n of graph.nodes) if (isPrunable(n)) keep[n.name] = Math.round(fraction * (n.kernel.length + (n.bias?.length ?? 0)));
  return magnitudePruneGraph(graph, keep);
}

function relDev(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
  return d / s;
}

/**
 * Milliseconds per call of each task: tinybench runs all tasks in ROUNDS interleaved rounds (the
 * machine is shared: its load changes within seconds); per task, the smallest of the rounds' medians.
 */
const ROUNDS = 4;
async function measure(tasks: Record<string, () => unknown>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME / ROUNDS, iterations: 5, warmupTime: round === 0 ? TIME / 4 : 0, warmupIterations: 2 });
    for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn as () => void);
    await bench.run();
    for (const t of bench.tasks) {
      const latency = (t.result as unknown as { latency: { p50?: number; mean: number } }).latency;
      out[t.name] = Math.min(out[t.name] ?? Infinity, latency.p50 ?? latency.mean);
    }
  }
  return out;
}

const speedRows: Record<string, unknown>[] = [];
const checks: Record<string, unknown>[] = [];
for (const name of ["mnist-mlp", "mnist-cnn"]) {
  const dir = join("models", name);
  const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const bin = readFileSync(join(dir, "weights.bin"));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const graph = parseLayersModelGraph(modelJson, weightData);
  const onnx = parseOnnxModel(new Uint8Array(readFileSync(join("bench", "models", `${name}.onnx`))));
  const image = name === "mnist-cnn";
  for (const fraction of FRACTIONS) {
    const g = pruned(graph, fraction);
    const ours = await createRuntime(g);
    const dense = await createRuntime(g, { kernels: "dense" });
    const written = writeLayersModelGraph(modelJson, g);
    const tfModel = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: (written.modelJson as any).modelTopology,
      weightSpecs: (written.modelJson as any).weightsManifest.flatMap((m: any) => m.weights),
      weightData: written.weightData,
    }));
    const og = pruned(onnx.graph, fraction);
    const sessions = {
      dense: await ort.InferenceSession.create(writeOnnxModel(og, onnx.source), { executionProviders: ["wasm"] }),
      sparse: await ort.InferenceSession.create(writeOnnxModel(og, onnx.source, { sparse: true }), { executionProviders: ["wasm"] }),
    };
    const kept = ours.layers.map((l) => `${l.name} ${(100 * l.density).toFixed(1)}% ${l.kernel}`).join(", ");
    for (const batch of BATCHES) {
      const x = digits.subarray(0, batch * 784);
      const shape = image ? [batch, 1, 28, 28] : [batch, 784];
      const tfShape = image ? [batch, 28, 28, 1] : [batch, 784];
      const ortRun = async (s: ort.InferenceSession) => (await s.run({ input: new ort.Tensor("float32", x, shape) })).logits.data as Float32Array;
      const tfRun = () => tf.tidy(() => (tfModel.predict(tf.tensor(x, tfShape)) as tf.Tensor).dataSync() as Float32Array);
      const reference = forwardGraph(g, [x], batch).outputs[0];
      checks.push({
        model: name, kept: fraction, batch, "ours vs JS": relDev(ours.predict(x, batch), reference).toExponential(1),
        "dense vs JS": relDev(dense.predict(x, batch), reference).toExponential(1), "tfjs vs JS": relDev(tfRun(), reference).toExponential(1),
        "ort vs JS": relDev(await ortRun(sessions.dense), reference).toExponential(1), "ort sparse vs JS": relDev(await ortRun(sessions.sparse), reference).toExponential(1),
      });
      const ms = await measure({
        "net-trim runtime": () => ours.predict(x, batch),
        "net-trim dense SIMD": () => dense.predict(x, batch),
        "tfjs-backend-wasm": tfRun,
        "onnxruntime-web": () => ortRun(sessions.dense),
        "onnxruntime-web sparse file": () => ortRun(sessions.sparse),
        "plain JS": () => forwardGraph(g, [x], batch),
      });
      const us = (k: string) => (1000 * ms[k]) / batch;
      const best = us("net-trim runtime");
      const row: Record<string, unknown> = { model: name, kept: `${fraction * 100}%`, batch };
      for (const k of Object.keys(ms)) row[`${k} µs`] = +us(k).toFixed(2);
      row["× vs dense SIMD"] = +(us("net-trim dense SIMD") / best).toFixed(2);
      row["× vs ort"] = +(us("onnxruntime-web") / best).toFixed(2);
      row["× vs tfjs"] = +(us("tfjs-backend-wasm") / best).toFixed(2);
      row["× vs JS"] = +(us("plain JS") / best).toFixed(2);
      row.layers = kept;
      speedRows.push(row);
      console.log(JSON.stringify(row));
    }
    tfModel.dispose();
    await sessions.dense.release();
    await sessions.sparse.release();
    ours.dispose();
    dense.dispose();
  }
}

// Break-even: one layer, inputs with half of them zero (as ReLU outputs), kernels forced.
function seeded(n: number, density: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return new Float32Array(n).map(() => (u() < density ? u() * 2 - 1 : 0));
}
const DENSITIES = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7];
const layers = {
  "dense 512→512": (density: number) => buildGraph([
    { name: "x", op: "input", inputs: [], shape: [512] },
    { name: "d", op: "dense", inputs: ["x"], units: 512, activation: "linear", kernel: seeded(512 * 512, density, 3), bias: null },
  ], ["x"], ["d"]),
  "conv 3×3 16→32 on 16×16": (density: number) => buildGraph([
    { name: "x", op: "input", inputs: [], shape: [16, 16, 16] },
    { name: "c", op: "conv2d", inputs: ["x"], filters: 32, kernelSize: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same", activation: "linear", kernel: seeded(9 * 16 * 32, density, 4), bias: null },
  ], ["x"], ["c"]),
};
const breakEvenRows: Record<string, unknown>[] = [];
for (const [layer, make] of Object.entries(layers)) {
  for (const batch of BATCHES) {
    const ratios: number[] = [];
    for (const density of DENSITIES) {
      const g = make(density);
      const size = (g.nodes[0].shape as number[]).reduce((a, b) => a * b, 1);
      const x = seeded(batch * size, 0.5, 7 + batch);
      const sparse = await createRuntime(g, { kernels: "sparse" }), denseRt = await createRuntime(g, { kernels: "dense" });
      const ms = await measure({ sparse: () => sparse.predict(x, batch), dense: () => denseRt.predict(x, batch) });
      ratios.push(ms.dense / ms.sparse);
    }
    // Linear interpolation of the first density where dense/sparse falls below 1.
    let even = DENSITIES[DENSITIES.length - 1];
    for (let i = 1; i < DENSITIES.length; i++) {
      if (ratios[i] < 1 && ratios[i - 1] >= 1) { even = DENSITIES[i - 1] + ((ratios[i - 1] - 1) / (ratios[i - 1] - ratios[i])) * (DENSITIES[i] - DENSITIES[i - 1]); break; }
      if (ratios[0] < 1) { even = 0; break; }
    }
    const row: Record<string, unknown> = { layer, batch };
    DENSITIES.forEach((d, i) => { row[`dense/sparse @${d}`] = +ratios[i].toFixed(2); });
    row["break-even density"] = +even.toFixed(3);
    breakEvenRows.push(row);
  }
}

console.table(speedRows.map(({ layers: _l, ...r }) => r));
console.table(checks);
console.table(breakEvenRows);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/runtime-${new Date().toISOString().slice(0, 10)}${quick ? "-quick" : ""}.json`;
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, tfjs: tf.version.tfjs, tfjsWasm: tfInfo, onnxruntimeWeb: ort.env.versions,
  pruning: "magnitude per layer (kernel and bias together), same fraction for every Dense/conv layer",
  unit: "µs per sample (per task the smallest of 4 interleaved tinybench rounds' median per call, / batch)", speed: speedRows, accuracy: checks, breakEven: breakEvenRows,
}, null, 2));
console.log(`wrote ${file}`);
