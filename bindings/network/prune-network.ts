// pruneNetwork: the paper's two drivers (SPEC §4) over a chain of Dense layers.
//   parallel — every layer on the ORIGINAL network's signals (V = 0), independently, so layers
//              can run at once on a worker pool;
//   cascade  — layers in order, each fed the pruned network's output, with V = W̄ᵀX̂ and the
//              inflated budget ε² = γ·‖(W̄ᵀX̂ − Y)_Ω‖² that keeps the original weights feasible.
// Budgets come from an epsilon gain (one, or one per layer) or from a density target searched
// per layer. The result carries the measured end-to-end error and the Theorem 1/2 bound
// computed from measured per-layer quantities (SPEC §5). With `refit`, the kept weights are then
// refitted by least squares (refit.ts); the bound stays that of the weights before the refit.
import { ShapeError } from "../errors.ts";
import { resolveNetworkOptions } from "./network-options.ts";
import { applyLayer, frobenius } from "./forward.ts";
import { checkLayerFits, inputSparsity } from "../solver/memory-check.ts";
import { openLayerSession } from "../solver/prune-layer.ts";
import { pruneLayer } from "../workers/layer-threads.ts";
import { searchDensity, sessionOptions } from "./density-search.ts";
import { checkHasSamples, toDenseF32 } from "../validate.ts";
import { checkDenseNetwork, type DenseLayerSpec, type DenseNetwork } from "./network.ts";
import type { LayerOptions, LayerResult, MatrixInput, ProgressInfo } from "../types.ts";
import { planExecution, solveOnPool } from "./execution.ts";
import { finishNetworkResult } from "./network-result.ts";
import { checkKeep, searchKeep } from "./keep-search.ts";
import { allocateKeep } from "./keep-allocation.ts";
import { layerKind, layerReport } from "./layer-report.ts";
import type { LayerReport, NetworkOptions, NetworkResult } from "./types.ts";

/** The most bytes of layer outputs a run in this thread keeps for its end-to-end measurement. */
const KEPT_SIGNALS_MAX_BYTES = 256 * 2 ** 20;

/**
 * Prunes a chain of Dense layers (ReLU hidden layers, linear last layer) on calibration samples
 * `input` ([P, inputSize], one row per sample).
 */
export async function pruneNetwork(network: DenseNetwork, input: MatrixInput, options: NetworkOptions = {}): Promise<NetworkResult> {
  const t0 = performance.now();
  checkDenseNetwork(network);
  const x = toDenseF32(input, "input");
  checkHasSamples(x.rows, "input.rows");
  if (x.cols !== network.inputSize) {
    throw new ShapeError(`input has ${x.cols} features per sample but the network's first layer takes ${network.inputSize}`);
  }
  if (options.keep !== undefined) {
    // The whole-network target: per-layer ladders and a greedy allocation (parallel), or a
    // search over one gain for every layer, each probe a run (cascade).
    const { keep, allocation } = checkKeep(options);
    const { keep: _k, keepAllocation: _a, ...rest } = options;
    if (allocation === "per-layer") return allocateKeep(network, x.data, x.rows, keep, rest);
    return searchKeep(keep, options.densityTolerance ?? 0.05, (gain) => pruneNetwork(network, input, { ...rest, epsilonGain: gain }));
  }
  const L = network.layers.length;
  const { mode, gains, densities, densityTolerance, gamma, kappa, refit, threads, layerOptions } = resolveNetworkOptions(options, L);

  const P = x.rows;
  // Memory: every layer's solve must fit in WebAssembly's 4 GiB; refuse before any work.
  // The first layer's input is the data: its plan counts its zeros, as its solve will; later
  // layers' inputs are not known yet and are assumed without zeros.
  const firstInput = inputSparsity(x.data, P, network.layers[0]?.inputs ?? 0, layerOptions.sparseInput ?? "auto");
  network.layers.forEach((l, i) => {
    const what = `layer ${i} ("${l.name}", ${l.inputs} inputs → ${l.units} outputs) with ${P} calibration samples`;
    checkLayerFits(what, P, l.inputs, l.units, mode === "cascade" && i > 0, "auto", i === 0 ? firstInput : undefined);
  });
  const kindOf = (i: number) => layerKind(network, i);
  const hooks = (i: number) => ({
    signal: options.signal,
    onProgress: options.onProgress
      ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: i, layers: L, name: network.layers[i].name, phase: "solving" })
      : undefined,
  });

  const results: LayerResult[] = new Array(L);
  const reports: LayerReport[] = new Array(L);
  const report = (i: number, r: LayerResult, target: Float32Array, ms: number) => {
    reports[i] = layerReport(network.layers[i], kindOf(i), r, frobenius(target), ms);
    options.onProgress?.({ layer: i, layers: L, name: network.layers[i].name, phase: "done", iteration: r.info.iterations });
  };

  const solveOne = async (i: number, xin: Float32Array, target: Float32Array, extra: LayerOptions, epsilonFloor = 0) => {
    const l = network.layers[i];
    const started = performance.now();
    const base: LayerOptions = { ...layerOptions, kind: kindOf(i), fitBias: l.useBias, threads, ...extra };
    let r: LayerResult;
    if (densities) {
      const { fixed, perSolve } = sessionOptions(base); // the session's engine holds the reweighting buffer
      const session = await openLayerSession({ data: xin, rows: P, cols: l.inputs }, { data: target, rows: P, cols: l.units }, fixed);
      try {
        // The bias counts as parameters only where the layer has one (as the layer's report counts it).
        r = await searchDensity(session, densities[i], densityTolerance, target, { ...perSolve, ...hooks(i) }, epsilonFloor, l.useBias);
      } finally {
        session.close();
      }
    } else {
      r = await pruneLayer({ data: xin, rows: P, cols: l.inputs }, { data: target, rows: P, cols: l.units }, { ...base, ...hooks(i) });
    }
    results[i] = r;
    report(i, r, target, performance.now() - started);
    return r;
  };

  // Signals are computed layer by layer; every layer's output (the original network's, and in
  // cascade the pruned one's) is kept for the end-to-end measurement, which would otherwise run
  // the layers again (P·Σ units f32 each: 13 MB for the MNIST MLP at P = 8000), unless that is
  // more than KEPT_SIGNALS_MAX_BYTES: then at most one original and one pruned signal are held.
  let pruned: DenseLayerSpec[];
  const originalSignals: Float32Array[] = [];
  const prunedSignals: Float32Array[] = [];
  const units = network.layers.reduce((n, l) => n + l.units, 0);
  const keepSignals = 4 * P * units * (mode === "cascade" ? 2 : 1) <= KEPT_SIGNALS_MAX_BYTES;
  const execution = await planExecution(mode, densities !== undefined, options.workers, L);
  const workers = execution.workers;
  if (mode === "parallel" && workers > 1) {
    const original = originalSignals;
    let s = x.data;
    for (let i = 0; i < L; i++) {
      s = applyLayer(network.layers[i], s, P, kindOf(i) === "relu");
      original.push(s);
    }
    await solveOnPool(workers, L, (i) => ({
      input: { data: i === 0 ? x.data : original[i - 1], rows: P, cols: network.layers[i].inputs },
      output: { data: original[i], rows: P, cols: network.layers[i].units },
      options: { ...layerOptions, kind: kindOf(i), fitBias: network.layers[i].useBias, epsilonGain: gains[i], threads },
    }), hooks, (i, r, ms) => {
      results[i] = r;
      report(i, r, original[i], ms);
    });
    pruned = network.layers.map((l, i) => ({ ...l, kernel: results[i].weights, bias: results[i].bias }));
  } else if (mode === "parallel") {
    let xin = x.data;
    for (let i = 0; i < L && !options.signal?.aborted; i++) {
      const y = applyLayer(network.layers[i], xin, P, kindOf(i) === "relu");
      if (keepSignals) originalSignals.push(y);
      await solveOne(i, xin, y, { epsilonGain: gains[i] });
      xin = y;
    }
    pruned = results.filter(Boolean).length === L // (every() would skip the holes of an aborted run)
      ? network.layers.map((l, i) => ({ ...l, kernel: results[i].weights, bias: results[i].bias }))
      : [];
  } else {
    pruned = [];
    let xOrig = x.data; // Y^(ℓ−1)
    let xHat = x.data; // X̂^(ℓ−1)
    for (let i = 0; i < L; i++) {
      const l = network.layers[i];
      const relu = kindOf(i) === "relu";
      const y = applyLayer(l, xOrig, P, relu);
      if (keepSignals) originalSignals.push(y);
      let r: LayerResult;
      if (i === 0) {
        r = await solveOne(i, xHat, y, { epsilonGain: gains[0] });
      } else {
        // V = W̄ᵀX̂ (original weights on the pruned input), ε² = γ·‖(V − Y)_Ω‖² (all entries for the last layer).
        const v = applyLayer(l, xHat, P, false);
        let sq = 0;
        for (let k = 0; k < v.length; k++) if (!relu || y[k] > 0) sq += (v[k] - y[k]) ** 2;
        const floor = Math.sqrt(sq);
        const epsilon = Math.sqrt(gamma) * floor * (i === L - 1 ? kappa : 1);
        const extra: LayerOptions = relu ? { epsilon, upperBound: { data: v, rows: P, cols: l.units } } : { epsilon };
        r = await solveOne(i, xHat, y, extra, densities ? floor : 0);
      }
      const spec = { ...l, kernel: r.weights, bias: r.bias };
      pruned.push(spec);
      xHat = applyLayer(spec, xHat, P, relu);
      if (keepSignals) prunedSignals.push(xHat);
      xOrig = y;
      if (options.signal?.aborted) break;
    }
  }

  return finishNetworkResult({
    network, x: x.data, P, mode, gamma, kappa, refit, reports, pruned, execution, t0, onProgress: options.onProgress,
    signals: { original: originalSignals, pruned: mode === "cascade" ? prunedSignals : undefined },
  });
}
