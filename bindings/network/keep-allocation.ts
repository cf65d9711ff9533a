// The whole-network target `keep` allocated across layers (parallel mode's default): a layer gives
// up weights where that costs the least end-to-end error, instead of every layer getting the same
// relative budget (keep-search.ts).
//  1. Each layer is solved on the original network's signals, as in parallel mode, along a ladder
//     of plain ℓ1 solves (keep-ladders.ts).
//  2. A greedy walk starts from the densest rungs and moves, step by step, the one layer whose
//     next rung adds the least measured logit error (on the calibration samples) per weight
//     removed, until the network keeps at most `keep` of its parameters: a path of states.
//  3. Each layer is solved with the run's own options (reweighted ℓ1 when asked) only at the
//     states the search visits. Reweighting removes weights, so the kept share of a state falls
//     below its plain count: the search moves back along the path (denser states) until the
//     reweighted share brackets `keep`, then bisects the gain of the layer whose move crosses it.
// Every layer's result is an ordinary solve at its own gain: its budget and certificate hold.
import type { LayerResult, ProgressInfo } from "../types.ts";
import { applyLayer, distance, frobenius } from "./forward.ts";
import { buildLadder, nnzOf, withSession, type LayerProgram, type Rung } from "./keep-ladders.ts";
import { layerKind, layerReport } from "./layer-report.ts";
import type { DenseLayerSpec, DenseNetwork } from "./network.ts";
import { finishNetworkResult } from "./network-result.ts";
import { resolveNetworkOptions } from "./network-options.ts";
import type { LayerReport, NetworkOptions, NetworkResult, PerLayerKeep } from "./types.ts";

/** A layer's ladder climbs until the layer keeps at most this share of `keep` (no allocation takes it lower). */
const LADDER_FLOOR = 0.25;
/**
 * With reweighting, a ladder goes down until the layer keeps keep / REWEIGHTED_SHARE in plain ℓ1
 * (at most MAX_DOWN_SHARE): reweighting removed 34–56% of the plain solve's weights on the MNIST
 * MLPs, so the densest state's reweighted share stays above `keep`.
 */
const REWEIGHTED_SHARE = 0.4, MAX_DOWN_SHARE = 0.9;
const MAX_REFINE_PROBES = 8;

/** One state of the walk: every layer's rung, the plain count kept, the layer moved to reach it. */
interface State {
  chosen: number[];
  kept: number;
  moved: number;
}

export async function allocateKeep(network: DenseNetwork, x: Float32Array, P: number, keep: number, options: NetworkOptions): Promise<NetworkResult> {
  const t0 = performance.now();
  const L = network.layers.length;
  const { gamma, kappa, refit, densityTolerance: tolerance, layerOptions } = resolveNetworkOptions(options, L);
  const reweighting = (layerOptions.reweight?.rounds ?? 0) > 0;
  const kinds = network.layers.map((_, i) => layerKind(network, i));
  const parameters = network.layers.map((l) => l.inputs * l.units + (l.useBias ? l.units : 0));
  const total = parameters.reduce((s, v) => s + v, 0);
  const target = keep * total;
  // The original network's signals: inputs and targets of every layer's program.
  const original: Float32Array[] = [];
  for (let i = 0, s = x; i < L; i++) original.push((s = applyLayer(network.layers[i], s, P, kinds[i] === "relu")));
  const programs: LayerProgram[] = network.layers.map((l, i) => ({
    input: i === 0 ? x : original[i - 1], target: original[i], P, inputs: l.inputs, units: l.units,
    options: { ...layerOptions, kind: kinds[i], fitBias: l.useBias },
    hooks: {
      signal: options.signal,
      onProgress: options.onProgress
        ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: i, layers: L, name: network.layers[i].name, phase: "solving" })
        : undefined,
    },
  }));
  const execution = { workers: 0, inThread: true, reason: "the keep allocation solves each layer's ladder on one session" };
  const report = (i: number, r: Rung): LayerReport => layerReport(network.layers[i], kinds[i], r.result, frobenius(original[i]), r.ms);
  const aborted = (reports: LayerReport[]) =>
    finishNetworkResult({ network, x, P, mode: "parallel", gamma, kappa, refit, reports, pruned: [], execution, t0 });
  const isAborted = (r: Rung) => r.result.status === "aborted";

  // 1. The plain ladders, one layer at a time (sessions share one wasm memory).
  const down = reweighting ? Math.min(MAX_DOWN_SHARE, keep / REWEIGHTED_SHARE) : keep;
  const ladders: Rung[][] = [];
  for (let i = 0; i < L; i++) {
    const rungs = await buildLadder(programs[i], parameters[i], down, LADDER_FLOOR * keep);
    const stopped = rungs.find(isAborted);
    if (stopped) return aborted([...ladders.map((r, j) => report(j, r[0])), report(i, stopped)]);
    ladders.push(rungs);
  }
  const specOf = (i: number, r: Rung): DenseLayerSpec => ({ ...network.layers[i], kernel: r.result.weights, bias: r.result.bias });

  // 2. The walk on plain counts and measured logit error. signals[i]: the current state's output of layer i.
  const logitsNorm = frobenius(original[L - 1]) || 1;
  let chosen = new Array<number>(L).fill(0);
  const forwardFrom = (i: number, rung: Rung, from: Float32Array[]): Float32Array[] => {
    const out: Float32Array[] = [];
    let s = i === 0 ? x : from[i - 1];
    for (let k = i; k < L; k++) out.push((s = applyLayer(specOf(k, k === i ? rung : ladders[k][chosen[k]]), s, P, kinds[k] === "relu")));
    return out;
  };
  let signals = forwardFrom(0, ladders[0][0], []);
  let error = distance(signals[L - 1], original[L - 1]) / logitsNorm;
  // A layer's next rung: the first above its current one that keeps fewer weights (plain ℓ1's
  // counts are not strictly monotone in the gain), so every move removes weights.
  const nextRung = (i: number): number | undefined => {
    for (let j = chosen[i] + 1; j < ladders[i].length; j++) if (nnzOf(ladders[i][j]) < nnzOf(ladders[i][chosen[i]])) return j;
    return undefined;
  };
  const path: State[] = [{ chosen, kept: ladders.reduce((s, rungs) => s + nnzOf(rungs[0]), 0), moved: -1 }];
  const steps: PerLayerKeep["steps"] = [];
  while (path[path.length - 1].kept > target) {
    let best: { i: number; j: number; ratio: number; error: number; signals: Float32Array[] } | undefined;
    for (let i = 0; i < L; i++) {
      const j = nextRung(i);
      if (j === undefined) continue;
      const tail = forwardFrom(i, ladders[i][j], signals);
      const e = distance(tail[tail.length - 1], original[L - 1]) / logitsNorm;
      // Error added per weight removed.
      const ratio = (e - error) / (nnzOf(ladders[i][chosen[i]]) - nnzOf(ladders[i][j]));
      if (!best || ratio < best.ratio) best = { i, j, ratio, error: e, signals: tail };
    }
    if (!best) break; // every ladder at its top: as few weights as the ladders go
    const { i, j } = best;
    const kept = path[path.length - 1].kept + nnzOf(ladders[i][j]) - nnzOf(ladders[i][chosen[i]]);
    chosen = chosen.map((c, k) => (k === i ? j : c));
    path.push({ chosen, kept, moved: i });
    signals = [...signals.slice(0, i), ...best.signals];
    error = best.error;
    steps.push({ layer: i, gain: ladders[i][chosen[i]].gain, keptFraction: kept / total, relativeLogitError: error });
  }

  // 3. The states' final weights: the plain rungs, or each layer solved again with reweighting at
  // the rung's gain (warm-started from the rung; solved once per layer and rung).
  const probes: PerLayerKeep["probes"] = [];
  const finalRungs = ladders.map(() => new Map<number, Rung>());
  const finalSolve = (i: number, c: number): Promise<Rung> => withSession(programs[i], programs[i].options, async (solve) => {
    const r = await solve(ladders[i][c].gain, ladders[i][c]);
    probes.push({ layer: i, gain: r.gain, nnz: nnzOf(r) });
    return r;
  });
  let stoppedAt: LayerReport[] | undefined;
  const finalsOf = async (state: State): Promise<Rung[] | undefined> => {
    if (!reweighting) return state.chosen.map((c, i) => ladders[i][c]);
    for (let i = 0; i < L; i++) {
      const c = state.chosen[i];
      if (finalRungs[i].has(c)) continue;
      const r = await finalSolve(i, c);
      if (isAborted(r)) {
        stoppedAt = state.chosen.map((cj, j) => report(j, j === i ? r : ladders[j][cj]));
        return undefined;
      }
      finalRungs[i].set(c, r);
    }
    return state.chosen.map((c, i) => finalRungs[i].get(c)!);
  };
  const keptOf = (rungs: Rung[]) => rungs.reduce((s, r) => s + nnzOf(r), 0);

  // The search along the path: lo the sparsest state known to keep ≥ target, hi the densest known
  // below it. The first guess scales the plain counts by the last state's reweighted/plain ratio.
  const S = path.length - 1;
  const evaluated = new Map<number, { rungs: Rung[]; kept: number }>();
  const evaluate = async (t: number) => {
    if (!evaluated.has(t)) {
      const rungs = await finalsOf(path[t]);
      if (!rungs) return undefined;
      evaluated.set(t, { rungs, kept: keptOf(rungs) });
    }
    return evaluated.get(t)!;
  };
  let lo = -1, hi = S;
  const last = await evaluate(S);
  if (!last) return aborted(stoppedAt!);
  if (last.kept >= target) lo = S; // the ladders' sparsest state: nothing sparser to try
  while (hi - lo > 1) {
    let t: number;
    if (lo < 0) {
      const ratio = path[hi].kept > 0 ? evaluated.get(hi)!.kept / path[hi].kept : 1;
      t = 0;
      while (t + 1 < hi && path[t + 1].kept * ratio >= target) t++;
    } else t = (lo + hi) >> 1;
    const at = await evaluate(t);
    if (!at) return aborted(stoppedAt!);
    if (at.kept >= target) lo = t;
    else hi = t;
    if (t === 0 && lo < 0) break; // the densest state already keeps less than the target
  }
  const bracket = [lo, hi].filter((t) => t >= 0 && t <= S && evaluated.has(t));
  const closest = bracket.reduce((a, b) => (Math.abs(evaluated.get(b)!.kept - target) < Math.abs(evaluated.get(a)!.kept - target) ? b : a));
  const finals = [...evaluated.get(closest)!.rungs];
  let kept = evaluated.get(closest)!.kept;

  // 4. Between lo and hi one layer moved a rung: bisect its gain to land within the tolerance.
  if (lo >= 0 && hi === lo + 1 && Math.abs(kept - target) > tolerance * target) {
    const i = path[hi].moved;
    const below = evaluated.get(lo)!.rungs;
    const others = evaluated.get(lo)!.kept - nnzOf(below[i]);
    let low = below[i].gain, high = evaluated.get(hi)!.rungs[i].gain;
    let from = ladders[i][path[lo].chosen[i]];
    let best = { rung: finals[i], kept };
    const stopped = await withSession(programs[i], programs[i].options, async (solve) => {
      for (let probe = 0; probe < MAX_REFINE_PROBES && Math.abs(best.kept - target) > tolerance * target; probe++) {
        const gain = Math.sqrt(low * high);
        const rung = await solve(gain, from);
        probes.push({ layer: i, gain, nnz: nnzOf(rung) });
        if (isAborted(rung)) return rung;
        from = rung;
        const k = others + nnzOf(rung);
        if (Math.abs(k - target) < Math.abs(best.kept - target)) best = { rung, kept: k };
        if (k > target) low = gain;
        else high = gain;
      }
      return undefined;
    });
    if (stopped) return aborted(below.map((r, j) => report(j, j === i ? stopped : r)));
    // The other layers are the same in both states (cached per layer and rung).
    finals[i] = best.rung;
    kept = best.kept;
  }

  const reports = finals.map((r, i) => report(i, r));
  const result = finishNetworkResult({
    network, x, P, mode: "parallel", gamma, kappa, refit, reports, pruned: finals.map((r, i) => specOf(i, r)), execution, t0, onProgress: options.onProgress,
  });
  return {
    ...result,
    keep: {
      allocation: "per-layer", target: keep, keptFraction: kept / total, gains: finals.map((r) => r.gain),
      ladders: ladders.map((rungs) => rungs.map((r) => ({ gain: r.gain, nnz: nnzOf(r) }))), steps, probes,
    },
  };
}
