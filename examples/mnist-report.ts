// Shared by the demo and the network benchmark: prune the bundled MNIST model one way, then
// measure it on the held-out digits next to magnitude pruning at the same per-layer nonzeros.
import { readLayersModelDir } from "../bindings/node/files.ts";
import {
  forward, magnitudeBaseline, magnitudePrune, pruneNetwork, sparseGptPrune, wandaPrune,
  type BaselinePruner, type DenseNetwork, type NetworkOptions, type NetworkResult,
} from "../bindings/index.ts";
import { refitNetwork } from "../bindings/network/refit.ts";
import { accuracy } from "./accuracy.ts";
import { loadMnist, PIXELS, type MnistSplit } from "./mnist-data.ts";
import { MNIST_MLP_DIR } from "./layer-data.ts";

export interface MnistContext {
  network: DenseNetwork;
  data: MnistSplit;
  /** Logits of the unpruned network on the test digits. */
  originalTestLogits: Float32Array;
  originalAccuracy: number;
}

/** The bundled model (or the MLP in `dir`, e.g. models/mnist-mlp-nodropout) and the fixed split (or `data`). */
export function loadContext(dir: string = MNIST_MLP_DIR, data: MnistSplit = loadMnist()): MnistContext {
  const { network } = readLayersModelDir(`${dir}/model.json`);
  const logits = logitsOf(network, data.testX, data.testLabels.length);
  return { network, data, originalTestLogits: logits, originalAccuracy: accuracy(logits, data.testLabels) };
}

export function logitsOf(network: DenseNetwork, x: Float32Array, rows: number): Float32Array {
  const signals = forward(network, x, rows);
  return signals[signals.length - 1];
}


export function relativeError(a: Float32Array, reference: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - reference[i]) ** 2;
    den += reference[i] ** 2;
  }
  return Math.sqrt(num / den);
}

export interface PrunedRow {
  method: string;
  /** Nonzero parameters per layer (kernel + bias). */
  nnz: number[];
  keptPercent: number;
  testAccuracy: number;
  relativeLogitError: number;
  timeS: number;
  /** CPU seconds of the whole process over the run (every thread; Node only): what the load does not change. */
  cpuS?: number;
  status: string;
  /** End-to-end logit error on the calibration data and its Theorem 1/2 bound (absolute). */
  guarantee?: { measured: number; bound: number; holds: boolean };
}

/** User + system CPU seconds of this process, all threads (NaN where there is no process.cpuUsage). */
function cpuSeconds(): number {
  const usage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage?.();
  return usage ? (usage.user + usage.system) / 1e6 : NaN;
}

function totalParameters(network: DenseNetwork): number {
  return network.layers.reduce((s, l) => s + l.kernel.length + (l.useBias ? l.bias.length : 0), 0);
}

function rowOf(ctx: MnistContext, method: string, network: DenseNetwork, nnz: number[], timeS: number, status: string, result?: NetworkResult): PrunedRow {
  const logits = logitsOf(network, ctx.data.testX, ctx.data.testLabels.length);
  return {
    method, nnz,
    keptPercent: (100 * nnz.reduce((a, b) => a + b, 0)) / totalParameters(ctx.network),
    testAccuracy: accuracy(logits, ctx.data.testLabels),
    relativeLogitError: relativeError(logits, ctx.originalTestLogits),
    timeS, status,
    guarantee: result ? { measured: result.guarantee.measuredError, bound: result.guarantee.bound, holds: result.guarantee.holds } : undefined,
  };
}

/**
 * Net-Trim with `options` on the first `samples` training digits, and magnitude pruning at the same
 * per-layer nnz. `prune`: pruneNetwork, or a benchmark's own call of one of its steps (e.g. the
 * keep allocation with a scheme).
 */
export async function pruneAndCompare(
  ctx: MnistContext, samples: number, label: string, options: NetworkOptions,
  prune: (network: DenseNetwork, x: { data: Float32Array; rows: number; cols: number }, options: NetworkOptions) => Promise<NetworkResult> = pruneNetwork,
): Promise<{ netTrim: PrunedRow; magnitude: PrunedRow; result: NetworkResult }> {
  const calibration = ctx.data.trainX.subarray(0, samples * PIXELS);
  const started = performance.now();
  const cpu = cpuSeconds();
  const result = await prune(ctx.network, { data: calibration, rows: samples, cols: PIXELS }, options);
  const timeS = (performance.now() - started) / 1000;
  const cpuS = cpuSeconds() - cpu;
  const nnz = result.layers.map((l) => l.nnzAfter);
  const netTrim = { ...rowOf(ctx, `Net-Trim ${label}`, result.network, nnz, timeS, result.status, result), cpuS };
  const magnitude = rowOf(ctx, `magnitude, same nnz as ${label}`, magnitudePrune(ctx.network, nnz), nnz, 0, "-");
  return { netTrim, magnitude, result };
}

/**
 * The refit on the support (pruneNetwork's `refit` option) applied to a finished Net-Trim run, as
 * pruneNetwork({ refit: true }) would (both are deterministic): the row's time is the Net-Trim
 * run's plus the refit's.
 */
export function refitRow(ctx: MnistContext, samples: number, label: string, result: NetworkResult, netTrimTimeS: number): PrunedRow {
  const calibration = ctx.data.trainX.subarray(0, samples * PIXELS);
  const started = performance.now();
  const relu = ctx.network.layers.map((l, i) => i < ctx.network.layers.length - 1 && l.activation === "relu");
  const { layers } = refitNetwork(ctx.network.layers, result.network.layers, calibration, samples, relu);
  const timeS = netTrimTimeS + (performance.now() - started) / 1000;
  const nnz = layers.map((l) => [...l.kernel, ...l.bias].filter((v) => v !== 0).length);
  return rowOf(ctx, `Net-Trim + refit ${label}`, { ...ctx.network, layers }, nnz, timeS, result.status);
}

/** The baselines in the order the reports show them. */
export const BASELINES: [string, BaselinePruner][] = [["SparseGPT", sparseGptPrune], ["Wanda", wandaPrune], ["magnitude", magnitudeBaseline]];

/** Each baseline on the first `samples` training digits at the per-layer nonzeros `nnz` (those of the row `label`), timed. */
export function baselineRows(ctx: MnistContext, samples: number, label: string, nnz: number[]): PrunedRow[] {
  const calibration = { data: ctx.data.trainX.subarray(0, samples * PIXELS), rows: samples, cols: PIXELS };
  return BASELINES.map(([name, prune]) => {
    const started = performance.now();
    const cpu = cpuSeconds();
    const pruned = prune(ctx.network, calibration, nnz);
    const timeS = (performance.now() - started) / 1000;
    const cpuS = cpuSeconds() - cpu;
    const reached = pruned.layers.map((l) => [...l.kernel, ...l.bias].filter((v) => v !== 0).length);
    return { ...rowOf(ctx, `${name}, same nnz as ${label}`, pruned, reached, timeS, reached.every((k, i) => k === nnz[i]) ? "-" : "counts missed"), cpuS };
  });
}

export function printRows(rows: PrunedRow[], originalAccuracy: number): void {
  console.table(rows.map((r) => ({
    method: r.method,
    "nnz per layer": r.nnz.join(" / "),
    "kept %": +r.keptPercent.toFixed(2),
    "test acc %": +(100 * r.testAccuracy).toFixed(2),
    "Δ acc (points)": +(100 * (r.testAccuracy - originalAccuracy)).toFixed(2),
    "rel. logit error": +r.relativeLogitError.toFixed(4),
    "time s": +r.timeS.toFixed(1),
    status: r.status,
  })));
}
