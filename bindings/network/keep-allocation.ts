// The whole-network target `keep` allocated across layers (parallel mode's default): a layer gives
// up weights where that costs the least end-to-end error, instead of every layer getting the same
// relative budget (keep-search.ts). Each layer is solved on the original network's signals, as
// in parallel mode, along a ladder of gains a factor √2 apart, every rung warm-started from the
// one before on one session (its factor kept). Then a greedy walk starts from the densest rungs
// and moves, step by step, the one layer whose next rung adds the least measured logit error
// (on the calibration samples) per weight removed, until the network keeps at most `keep` of its
// parameters; the last move is refined by bisecting that layer's gain between its two rungs.
// Every layer's result is an ordinary solve at its own gain: its budget and certificate hold.
import { openLayerSession } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult, ProgressInfo } from "../types.ts";
import { applyLayer, distance, frobenius } from "./forward.ts";
import { layerKind, layerReport } from "./layer-report.ts";
import type { DenseLayerSpec, DenseNetwork } from "./network.ts";
import { finishNetworkResult } from "./network-result.ts";
import { resolveNetworkOptions } from "./network-options.ts";
import { sessionOptions } from "./density-search.ts";
import type { LayerReport, NetworkOptions, NetworkResult, PerLayerKeep } from "./types.ts";

const RUNG_FACTOR = Math.SQRT2;
/** The ladder starts at the default gain and goes down to MIN_GAIN, up to MAX_GAIN (ε ≥ ‖Y‖: no weights). */
const START_GAIN = 0.05, MIN_GAIN = 1e-4, MAX_GAIN = 1;
/** A layer's ladder climbs until the layer keeps at most this share of `keep` (no allocation takes it lower). */
const LADDER_FLOOR = 0.25;
const MAX_REFINE_PROBES = 8;

/** One solved budget of one layer (the dual is dropped once the next rung has started from it). */
type Rung = { gain: number; ms: number; result: Omit<LayerResult, "dual"> };

const nnzOf = (r: Omit<LayerResult, "dual">) => r.info.nnz;

export async function allocateKeep(network: DenseNetwork, x: Float32Array, P: number, keep: number, options: NetworkOptions): Promise<NetworkResult> {
  const t0 = performance.now();
  const L = network.layers.length;
  const { gamma, kappa, refit, densityTolerance: tolerance, layerOptions } = resolveNetworkOptions(options, L);
  const kinds = network.layers.map((_, i) => layerKind(network, i));
  const parameters = network.layers.map((l) => l.inputs * l.units + (l.useBias ? l.units : 0));
  const total = parameters.reduce((s, v) => s + v, 0);
  const target = keep * total;
  // The original network's signals: inputs and targets of every layer's program.
  const original: Float32Array[] = [];
  for (let i = 0, s = x; i < L; i++) original.push((s = applyLayer(network.layers[i], s, P, kinds[i] === "relu")));
  const inputOf = (i: number) => (i === 0 ? x : original[i - 1]);
  const execution = { workers: 0, inThread: true, reason: "the keep allocation solves each layer's ladder on one session" };
  const hooks = (i: number) => ({
    signal: options.signal,
    onProgress: options.onProgress
      ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: i, layers: L, name: network.layers[i].name, phase: "solving" })
      : undefined,
  });
  const aborted = (reports: LayerReport[]) =>
    finishNetworkResult({ network, x, P, mode: "parallel", gamma, kappa, refit, reports, pruned: [], execution, t0 });

  // A session on layer i; `solve(gain, from)` warm-starts from `from` (a result with its dual).
  const openLayer = async (i: number) => {
    const l = network.layers[i];
    const { fixed, perSolve } = sessionOptions({ ...layerOptions, kind: kinds[i], fitBias: l.useBias });
    const session = await openLayerSession({ data: inputOf(i), rows: P, cols: l.inputs }, { data: original[i], rows: P, cols: l.units }, fixed);
    const solve = async (gain: number, from?: LayerResult): Promise<{ rung: Rung; full: LayerResult }> => {
      const started = performance.now();
      const warmStart = from && from.status !== "numerical_error" ? { weights: from.weights, bias: from.bias, dual: from.dual } : undefined;
      const full = await session.solve({ ...perSolve, ...hooks(i), epsilonGain: gain, warmStart });
      const { dual: _d, ...result } = full;
      return { rung: { gain, ms: performance.now() - started, result }, full };
    };
    return { solve, close: () => session.close() };
  };

  // 1. The ladders, one layer at a time (solves share one wasm memory).
  const ladders: Rung[][] = [];
  for (let i = 0; i < L; i++) {
    const layer = await openLayer(i);
    try {
      const share = (r: Rung) => nnzOf(r.result) / parameters[i];
      let { rung, full } = await layer.solve(START_GAIN);
      const start = full;
      const rungs = [rung];
      // Down until this layer alone keeps at least `keep` (so the walk starts above the target).
      while (share(rungs[0]) < keep && rungs[0].gain / RUNG_FACTOR >= MIN_GAIN && rung.result.status !== "aborted") {
        ({ rung, full } = await layer.solve(rungs[0].gain / RUNG_FACTOR, full));
        rungs.unshift(rung);
      }
      // Up until the layer keeps little (a share LADDER_FLOOR·keep), nothing, or the budget is ‖Y‖.
      full = start;
      let top = rungs[rungs.length - 1];
      while (share(top) > LADDER_FLOOR * keep && nnzOf(top.result) > 0 && top.gain * RUNG_FACTOR <= MAX_GAIN * (1 + 1e-12) && top.result.status !== "aborted") {
        ({ rung, full } = await layer.solve(top.gain * RUNG_FACTOR, full));
        rungs.push((top = rung));
      }
      const stopped = rungs.find((r) => r.result.status === "aborted");
      if (stopped) return aborted([...ladders.map((_, j) => report(j, ladders[j][0])), report(i, stopped)]);
      ladders.push(rungs);
    } finally {
      layer.close();
    }
  }

  function report(i: number, r: Rung): LayerReport {
    return layerReport(network.layers[i], kinds[i], r.result, frobenius(original[i]), r.ms);
  }
  const specOf = (i: number, r: Rung): DenseLayerSpec => ({ ...network.layers[i], kernel: r.result.weights, bias: r.result.bias });

  // 2. The greedy walk on measured logit error. signals[i]: the chosen network's output of layer i.
  const logitsNorm = frobenius(original[L - 1]) || 1;
  const chosen = new Array<number>(L).fill(0);
  const forwardFrom = (i: number, rung: Rung): Float32Array[] => {
    const out: Float32Array[] = [];
    let s = i === 0 ? x : signals[i - 1];
    for (let k = i; k < L; k++) out.push((s = applyLayer(specOf(k, k === i ? rung : ladders[k][chosen[k]]), s, P, kinds[k] === "relu")));
    return out;
  };
  let signals: Float32Array[] = [];
  signals = forwardFrom(0, ladders[0][0]);
  let error = distance(signals[L - 1], original[L - 1]) / logitsNorm;
  let kept = ladders.reduce((s, rungs) => s + nnzOf(rungs[0].result), 0);
  const steps: PerLayerKeep["steps"] = [];
  let last: { layer: number; from: number; keptBefore: number } | undefined;
  while (kept > target) {
    let best: { i: number; ratio: number; error: number; signals: Float32Array[] } | undefined;
    for (let i = 0; i < L; i++) {
      const next = ladders[i][chosen[i] + 1];
      if (!next) continue;
      const tail = forwardFrom(i, next);
      const e = distance(tail[tail.length - 1], original[L - 1]) / logitsNorm;
      const removed = nnzOf(ladders[i][chosen[i]].result) - nnzOf(next.result);
      // Error added per weight removed; a rung that removes none is taken only when it lowers the error.
      const ratio = removed > 0 ? (e - error) / removed : e <= error ? -Infinity : Infinity;
      if (!best || ratio < best.ratio) best = { i, ratio, error: e, signals: tail };
    }
    if (!best) break; // every ladder at its top: as few weights as the ladders go
    const { i } = best;
    last = { layer: i, from: chosen[i], keptBefore: kept };
    kept += nnzOf(ladders[i][chosen[i] + 1].result) - nnzOf(ladders[i][chosen[i]].result);
    chosen[i]++;
    signals = [...signals.slice(0, i), ...best.signals];
    error = best.error;
    steps.push({ layer: i, gain: ladders[i][chosen[i]].gain, keptFraction: kept / total, relativeLogitError: error });
  }

  // 3. The last move overshot the tolerance: bisect that layer's gain between its two rungs.
  const finals = ladders.map((rungs, i) => rungs[chosen[i]]);
  if (last && Math.abs(kept - target) > tolerance * target) {
    const { layer: i, from } = last;
    const others = kept - nnzOf(finals[i].result);
    let low = ladders[i][from].gain, high = ladders[i][from + 1].gain;
    let bestRung = finals[i], bestKept = kept;
    if (Math.abs(last.keptBefore - target) < Math.abs(kept - target)) [bestRung, bestKept] = [ladders[i][from], last.keptBefore];
    const layer = await openLayer(i);
    try {
      let from: LayerResult | undefined;
      for (let probe = 0; probe < MAX_REFINE_PROBES && Math.abs(bestKept - target) > tolerance * target; probe++) {
        const gain = Math.sqrt(low * high);
        const { rung, full } = await layer.solve(gain, from);
        if (rung.result.status === "aborted") return aborted(finals.map((r, j) => report(j, j === i ? rung : r)));
        from = full;
        const k = others + nnzOf(rung.result);
        if (Math.abs(k - target) < Math.abs(bestKept - target)) [bestRung, bestKept] = [rung, k];
        if (k > target) low = gain;
        else high = gain;
      }
    } finally {
      layer.close();
    }
    finals[i] = bestRung;
    kept = bestKept;
  }

  const reports = finals.map((r, i) => report(i, r));
  const result = finishNetworkResult({
    network, x, P, mode: "parallel", gamma, kappa, refit, reports, pruned: finals.map((r, i) => specOf(i, r)), execution, t0, onProgress: options.onProgress,
  });
  return {
    ...result,
    keep: {
      allocation: "per-layer", target: keep, keptFraction: kept / total, gains: finals.map((r) => r.gain),
      ladders: ladders.map((rungs) => rungs.map((r) => ({ gain: r.gain, nnz: nnzOf(r.result) }))), steps,
    },
  };
}
