// The page's module worker: loads the wasm once, runs pruneNetwork in this thread
// (workers: 0) so the page never freezes, streams progress, and prepares everything the page
// shows or downloads (test accuracy, pruned kernels, model files, masks.json, report.json).
import {
  forward, init, masksToJson, matrix, parseLayersModel, pruneNetwork, writeLayersModel,
  type Backend, type DenseNetwork, type NetworkProgress, type NetworkResult,
} from "./lib.ts";
import type { FromWorker, PruneOutcome, PruneRequest, ToWorker } from "./protocol.ts";
import { accuracy } from "../accuracy.ts";

let ready: Promise<Backend> | undefined;
let controller: AbortController | undefined;

const post = (message: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

self.addEventListener("message", (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "cancel") controller?.abort();
  else if (message.type === "prune") {
    run(message).catch((e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      post({ type: "error", name: error.name, message: error.message });
    });
  }
});

async function run(request: PruneRequest): Promise<void> {
  // Made first, so that a cancel during the wasm compilation still counts.
  controller = new AbortController();
  const { signal } = controller;
  try {
    await prune(request, signal);
  } finally {
    controller = undefined;
  }
}

async function prune(request: PruneRequest, signal: AbortSignal): Promise<void> {
  // No configuration: the library's literal new URL("…wasm", import.meta.url) makes Vite emit
  // the kernels, and init() picks the SIMD build where it validates.
  ready ??= init().catch((e) => {
    ready = undefined;
    throw e;
  });
  const { simd } = await ready;
  const network = parseLayersModel(request.modelJson, request.weights);
  let lastPost = 0;
  const onProgress = (progress: NetworkProgress) => {
    // Every 10 iterations is far more often than a screen needs.
    const now = performance.now();
    if (progress.phase === "solving" && now - lastPost < 50) return;
    lastPost = now;
    post({ type: "progress", progress });
  };
  const result = await pruneNetwork(network, matrix(request.calibration, request.rows, request.cols), {
    mode: request.mode, epsilonGain: request.epsilonGain, workers: 0, signal, onProgress,
  });
  // A cancelled run has no complete pruned network: nothing to picture, test or save.
  const complete = result.status !== "aborted" && result.layers.length === network.layers.length;
  const outcome: PruneOutcome = {
    status: result.status, timeMs: result.timeMs, layers: result.layers, guarantee: result.guarantee, simd,
    kernels: complete ? result.network.layers.map((l) => ({ name: l.name, inputs: l.inputs, units: l.units, kernel: l.kernel })) : [],
  };
  if (complete) {
    if (request.test) {
      const { x, labels } = request.test;
      outcome.accuracy = { before: networkAccuracy(network, x, labels), after: networkAccuracy(result.network, x, labels), samples: labels.length };
    }
    outcome.downloads = downloads(request, result, outcome.accuracy);
  }
  post({ type: "result", outcome }, outcome.downloads ? [outcome.downloads.weightData] : []);
}

function networkAccuracy(network: DenseNetwork, x: Float32Array, labels: Uint8Array): number {
  const signals = forward(network, x, labels.length);
  return accuracy(signals[signals.length - 1], labels);
}

function downloads(request: PruneRequest, result: NetworkResult, acc: PruneOutcome["accuracy"]) {
  const g = result.guarantee;
  const written = writeLayersModel(request.modelJson, result.network, {
    mode: request.mode, status: result.status,
    guarantee: { theorem: g.theorem, relativeError: g.relativeError, bound: g.bound, holds: g.holds },
  });
  const layers = result.layers.map(({ info: { nnzPerNeuron: _n, ...info }, ...l }) => ({ ...l, info }));
  const sum = (f: (l: (typeof layers)[number]) => number) => layers.reduce((s, l) => s + f(l), 0);
  const report = {
    tool: "net-trim (web page)",
    model: request.modelLabel,
    calibration: { source: request.calibrationLabel, samples: request.rows, features: request.cols },
    options: { mode: request.mode, epsilonGain: request.epsilonGain, workers: 0 },
    status: result.status,
    layers,
    total: { nnzBefore: sum((l) => l.nnzBefore), nnzAfter: sum((l) => l.nnzAfter), parameters: sum((l) => l.parameters) },
    guarantee: g,
    testAccuracy: acc ? { samples: acc.samples, before: acc.before, after: acc.after } : undefined,
    timeMs: result.timeMs,
  };
  return {
    modelJson: JSON.stringify(written.modelJson),
    weightData: written.weightData,
    masksJson: JSON.stringify(masksToJson(result.network)),
    reportJson: JSON.stringify(report, null, 2),
  };
}
