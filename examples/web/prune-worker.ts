// The page's module worker: compiles the wasm once, runs pruneNetwork in this thread
// (workers: 0) so the page never freezes, streams progress, and prepares everything the page
// shows or downloads (test accuracy, pruned kernels, model files, masks.json, report.json).
import {
  forward, init, masksToJson, matrix, parseLayersModel, pruneNetwork, simdSupported, writeLayersModel,
  type DenseNetwork, type NetworkProgress, type NetworkResult,
} from "./lib.ts";
import type { FromWorker, PruneOutcome, PruneRequest, ToWorker } from "./protocol.ts";

// Literal URLs so that Vite emits both builds; the library's own loader URL is not used.
const simd = simdSupported();
const wasmUrl = simd
  ? new URL("../../build/net-trim-simd.wasm", import.meta.url)
  : new URL("../../build/net-trim-scalar.wasm", import.meta.url);

async function compile(url: URL): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load the WebAssembly kernels (${url.pathname}): HTTP ${response.status}`);
  // compileStreaming needs the application/wasm content type; some static servers send another.
  if (response.headers.get("content-type")?.startsWith("application/wasm")) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

let ready: Promise<unknown> | undefined;
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
  ready ??= init({ module: compile(wasmUrl) }).catch((e) => {
    ready = undefined;
    throw e;
  });
  await ready;
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
      outcome.accuracy = { before: accuracy(network, x, labels), after: accuracy(result.network, x, labels), samples: labels.length };
    }
    outcome.downloads = downloads(request, result, outcome.accuracy);
  }
  post({ type: "result", outcome }, outcome.downloads ? [outcome.downloads.weightData] : []);
}

function accuracy(network: DenseNetwork, x: Float32Array, labels: Uint8Array): number {
  const signals = forward(network, x, labels.length);
  const logits = signals[signals.length - 1];
  const k = logits.length / labels.length;
  let right = 0;
  for (let p = 0; p < labels.length; p++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[p * k + j] > logits[p * k + best]) best = j;
    if (best === labels[p]) right++;
  }
  return right / labels.length;
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
