// Shared by the demo and the CNN benchmark: prune the bundled CNN (models/mnist-cnn) one way with
// pruneGraph, then measure it on the held-out digits next to magnitude pruning at the same
// per-node nonzeros, and each conv layer's output error for both at that count.
import { readFileSync } from "node:fs";
import {
  forwardGraph, isPrunable, magnitudePruneGraph, parseLayersModelGraph, pruneGraph, tensor,
  type GraphPruneOptions, type GraphResult, type ModelGraph,
} from "../bindings/index.ts";
import { refitGraph } from "../bindings/network/graph-refit.ts";
import { graphOutputError, withRefit } from "../bindings/network/graph-node-report.ts";
import { accuracy } from "./accuracy.ts";
import { loadMnist, PIXELS, type MnistSplit } from "./mnist-data.ts";
import { relativeError, type PrunedRow } from "./mnist-report.ts";

export const MNIST_CNN_DIR = new URL("../models/mnist-cnn/", import.meta.url).pathname;

export interface CnnContext {
  modelJson: unknown;
  graph: ModelGraph;
  data: MnistSplit;
  originalTestLogits: Float32Array;
  originalAccuracy: number;
  /** The unpruned graph's output of each conv node on the test digits, computed once when first asked. */
  originalConvOutputs?: Map<string, Float32Array>;
}

export function loadCnnContext(data: MnistSplit = loadMnist()): CnnContext {
  const modelJson = JSON.parse(readFileSync(`${MNIST_CNN_DIR}model.json`, "utf8"));
  const bytes = readFileSync(`${MNIST_CNN_DIR}weights.bin`);
  const graph = parseLayersModelGraph(modelJson, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const logits = cnnLogits(graph, data.testX);
  return { modelJson, graph, data, originalTestLogits: logits, originalAccuracy: accuracy(logits, data.testLabels) };
}

/** The graph's logits on [rows, 784] digits (fed as [rows, 28, 28, 1]). */
export function cnnLogits(graph: ModelGraph, digits: Float32Array): Float32Array {
  return forwardGraph(graph, [digits], digits.length / PIXELS).outputs[0];
}

/** Nonzero parameters (kernel + bias) of each prunable node, in graph order. */
export function nonzerosPerNode(graph: ModelGraph): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of graph.nodes.filter(isPrunable)) {
    let count = 0;
    for (const v of n.kernel) if (v !== 0) count++;
    for (const v of n.bias ?? []) if (v !== 0) count++;
    out.set(n.name, count);
  }
  return out;
}

function parameters(graph: ModelGraph): number {
  return graph.nodes.filter(isPrunable).reduce((s, n) => s + n.kernel.length + (n.bias?.length ?? 0), 0);
}

/** One conv node's output error on the test digits with only its weights replaced: Net-Trim's and magnitude's. */
export interface ConvLayerError {
  name: string;
  nnz: number;
  keptPercent: number;
  netTrimError: number;
  magnitudeError: number;
}

/** ‖out_node(graph with node from `replacement`) − out_node(original)‖_F / ‖out_node(original)‖_F (post-activation). */
function nodeOutputError(ctx: CnnContext, replacement: ModelGraph, name: string): number {
  const node = replacement.nodes.find((n) => n.name === name)!;
  const swapped = { ...ctx.graph, nodes: ctx.graph.nodes.map((n) => (n.name === name ? node : n)) };
  const rows = ctx.data.testLabels.length;
  // The original's outputs once for every conv node: each forward pass runs the whole graph.
  ctx.originalConvOutputs ??= forwardGraph(ctx.graph, [ctx.data.testX], rows,
    { outputsOf: ctx.graph.nodes.filter((n) => n.op === "conv2d").map((n) => n.name) }).values;
  return relativeError(forwardGraph(swapped, [ctx.data.testX], rows, { outputsOf: [name] }).values.get(name)!,
    ctx.originalConvOutputs.get(name)!);
}

function rowOf(ctx: CnnContext, method: string, graph: ModelGraph, nnz: number[], timeS: number, status: string): PrunedRow {
  const logits = cnnLogits(graph, ctx.data.testX);
  return {
    method, nnz,
    keptPercent: (100 * nnz.reduce((a, b) => a + b, 0)) / parameters(ctx.graph),
    testAccuracy: accuracy(logits, ctx.data.testLabels),
    relativeLogitError: relativeError(logits, ctx.originalTestLogits),
    timeS, status,
  };
}

export interface CnnComparison {
  netTrim: PrunedRow;
  magnitude: PrunedRow;
  result: GraphResult;
  /** CPU seconds of this process (every thread, pool workers included) during pruneGraph. */
  cpuS: number;
  magnitudeGraph: ModelGraph;
  convErrors: ConvLayerError[];
}

/** Net-Trim (pruneGraph with `options`) on the first `samples` training digits, and magnitude at the same per-node nnz. */
export async function pruneCnnAndCompare(ctx: CnnContext, samples: number, label: string, options: GraphPruneOptions): Promise<CnnComparison> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await pruneGraph(ctx.graph, calibrationOf(ctx, samples), options);
  const timeS = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  return compareResult(ctx, label, result, timeS, (user + system) / 1e6);
}

/**
 * The refit on the support (what pruneGraph's `refit: true` does after its solves) applied to a
 * comparison's pruned CNN, measured the same way: one solve gives the row without and with the
 * refit. Time and CPU: the solve's plus the refit's.
 */
export function refitCnnAndCompare(ctx: CnnContext, samples: number, label: string, c: CnnComparison): CnnComparison {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const x = ctx.data.trainX.subarray(0, samples * PIXELS);
  const r = refitGraph(ctx.graph, c.result.graph, x, samples, c.result.layers.map((l) => l.name));
  const refitMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  const result: GraphResult = {
    ...c.result, graph: r.graph, layers: c.result.layers.map((l) => withRefit(l, r.graph, r.reports.get(l.name))),
    outputError: graphOutputError(ctx.graph, r.graph, x, samples), refit: { timeMs: refitMs },
  };
  return compareResult(ctx, label, result, c.netTrim.timeS + refitMs / 1000, c.cpuS + (user + system) / 1e6);
}

function calibrationOf(ctx: CnnContext, samples: number) {
  return tensor(ctx.data.trainX.subarray(0, samples * PIXELS), [samples, 28, 28, 1]);
}

function compareResult(ctx: CnnContext, label: string, result: GraphResult, timeS: number, cpuS: number): CnnComparison {
  const counts = nonzerosPerNode(result.graph);
  const nnz = [...counts.values()];
  const magnitudeGraph = magnitudePruneGraph(ctx.graph, Object.fromEntries(counts));
  // Conv nodes this run pruned (a `layers` option may leave some as they are).
  const convErrors = result.layers.filter((l) => l.op === "conv2d").map((l) => ({
    name: l.name, nnz: l.nnzAfter, keptPercent: (100 * l.nnzAfter) / l.parameters,
    netTrimError: nodeOutputError(ctx, result.graph, l.name),
    magnitudeError: nodeOutputError(ctx, magnitudeGraph, l.name),
  }));
  return {
    netTrim: rowOf(ctx, `Net-Trim ${label}`, result.graph, nnz, timeS, result.status),
    magnitude: rowOf(ctx, `magnitude, same nnz as ${label}`, magnitudeGraph, nnz, 0, "-"),
    result, cpuS, magnitudeGraph, convErrors,
  };
}

/** The per-node table of one pruneGraph result. */
export function cnnLayerTable(result: GraphResult): Record<string, unknown>[] {
  return result.layers.map((l) => ({
    layer: l.name, op: l.op, program: l.program, status: l.status, "nnz before": l.nnzBefore, "nnz after": l.nnzAfter,
    "kept %": +(100 * l.keptFraction).toFixed(1), "rel. error": +l.relativeError.toFixed(4), iterations: l.iterations,
    "time s": +(l.timeMs / 1000).toFixed(2),
    ...(l.refit ? { "refit error": +l.refit.relativeError.toFixed(4), "refit s": +(l.refit.timeMs / 1000).toFixed(2) } : {}),
  }));
}

/** Each conv layer's output error on the test digits, Net-Trim against magnitude at its nnz. */
export function convErrorTable(errors: ConvLayerError[]): Record<string, unknown>[] {
  return errors.map((e) => ({
    layer: e.name, nnz: e.nnz, "kept %": +e.keptPercent.toFixed(1),
    "Net-Trim output error": +e.netTrimError.toFixed(4), "magnitude output error": +e.magnitudeError.toFixed(4),
  }));
}
