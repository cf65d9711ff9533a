// The whole-network target `keep` allocated across layers (parallel mode's default): a layer gives
// up weights where that costs the least end-to-end error, instead of every layer getting the same
// relative budget (keep-search.ts).
//  1. Each layer is solved on the original network's signals, as in parallel mode, along a ladder
//     of plain ℓ1 solves (keep-ladders.ts).
//  2. A greedy walk (keep-walk.ts) starts from the densest rungs and moves, step by step, the one
//     layer whose next rung adds the least measured logit error (on the calibration samples) per
//     weight removed, until the network keeps at most `keep` of its parameters: a path of states.
//  3. Each layer is solved with the run's own options (reweighted ℓ1 when asked) only at the
//     states the search visits, warm-started from a reweighted solve of a neighbouring rung when
//     there is one. Reweighting removes weights, so the kept share of a state falls below its
//     plain count: the search moves back along the path (denser states) until the reweighted
//     shares of two neighbouring states bracket `keep`.
//  4. The gain of the layer whose last move crosses `keep` is bisected.
// Every layer's result is an ordinary solve at its own gain: its budget and certificate hold.
// The steps are allocateLayers', over any list of layer programs and any measure of the end-to-end
// error (a chain's here, a model graph's in graph-keep.ts).
import type { ProgressInfo } from "../types.ts";
import { applyLayer, frobenius } from "./forward.ts";
import { buildLadder, denseProgram, nnzOf, plainOptions, withSession, type LayerProgram, type Rung, type RungResult } from "./keep-ladders.ts";
import { chainMeasure, walk, type WalkMeasure, type WalkState } from "./keep-walk.ts";
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

/**
 * How the allocation reaches reweighted weights (the library uses the default; bench:keep compares
 * it with the earlier sessions' schemes): "continued" (steps 1–4 above), "plain-path" (session 6:
 * the same, every reweighted solve warm-started from its plain rung), "every-rung" (session 5:
 * every rung of the ladders solved with reweighting and the walk on those, 1 + rounds solves a
 * rung). Without reweighting all three are the plain walk.
 */
export const KEEP_WALKS = ["continued", "plain-path", "every-rung"] as const;
export type KeepWalk = (typeof KEEP_WALKS)[number];

/** What the allocation works on: every layer's program and parameter count, the target and the error measure. */
interface AllocationProblem<R extends RungResult> {
  programs: LayerProgram<R>[];
  parameters: number[];
  keep: number;
  tolerance: number;
  reweighting: boolean;
  measure: WalkMeasure<R>;
}

/** The allocation's outcome: every layer's final rung and the record, or (aborted) one rung per layer reached, the stopped one last at its layer. */
type Allocation<R extends RungResult> = { finals: Rung<R>[]; keep: PerLayerKeep } | { aborted: Rung<R>[] };

export async function allocateKeep(
  network: DenseNetwork, x: Float32Array, P: number, keep: number, options: NetworkOptions, mode: KeepWalk = "continued",
): Promise<NetworkResult> {
  const t0 = performance.now();
  const L = network.layers.length;
  const { gamma, kappa, refit, densityTolerance: tolerance, threads, layerOptions } = resolveNetworkOptions(options, L);
  const reweighting = (layerOptions.reweight?.rounds ?? 0) > 0;
  const kinds = network.layers.map((_, i) => layerKind(network, i));
  const parameters = network.layers.map((l) => l.inputs * l.units + (l.useBias ? l.units : 0));
  // The original network's signals: inputs and targets of every layer's program.
  const original: Float32Array[] = [];
  for (let i = 0, s = x; i < L; i++) original.push((s = applyLayer(network.layers[i], s, P, kinds[i] === "relu")));
  const programs = network.layers.map((l, i) => denseProgram(
    i === 0 ? x : original[i - 1], original[i], P, l.inputs, l.units, { ...layerOptions, kind: kinds[i], fitBias: l.useBias, threads },
    {
      signal: options.signal,
      onProgress: options.onProgress
        ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: i, layers: L, name: network.layers[i].name, phase: "solving" })
        : undefined,
    },
  ));
  const execution = { workers: 0, inThread: true, reason: "the keep allocation solves each layer's ladder on one session" };
  const report = (i: number, r: Rung): LayerReport => layerReport(network.layers[i], kinds[i], r.result, frobenius(original[i]), r.ms);
  const measure = chainMeasure({ network, x, P, relu: kinds.map((k) => k === "relu"), original });
  const allocation = await allocateLayers({ programs, parameters, keep, tolerance, reweighting, measure }, mode);
  if ("aborted" in allocation) {
    const reports = allocation.aborted.map((r, i) => report(i, r));
    return finishNetworkResult({ network, x, P, mode: "parallel", gamma, kappa, refit, reports, pruned: [], execution, t0 });
  }
  const { finals } = allocation;
  const specOf = (i: number, r: Rung): DenseLayerSpec => ({ ...network.layers[i], kernel: r.result.weights, bias: r.result.bias });
  const result = finishNetworkResult({
    network, x, P, mode: "parallel", gamma, kappa, refit, reports: finals.map((r, i) => report(i, r)), pruned: finals.map((r, i) => specOf(i, r)),
    execution, t0, onProgress: options.onProgress,
  });
  return { ...result, keep: allocation.keep };
}

/** Steps 1–4 above on any layers: their final rungs and the allocation's record. */
export async function allocateLayers<R extends RungResult>(problem: AllocationProblem<R>, mode: KeepWalk = "continued"): Promise<Allocation<R>> {
  const { programs, parameters, keep, tolerance, reweighting, measure } = problem;
  const L = programs.length;
  // The ladders' rungs are the returned weights (no solve after the walk) without reweighting, or when every rung is reweighted.
  const laddersFinal = !reweighting || mode === "every-rung";
  const continued = mode === "continued";
  const total = parameters.reduce((s, v) => s + v, 0);
  const target = keep * total;
  const isAborted = (r: Rung<R>) => r.result.status === "aborted";

  // 1. The ladders, one layer at a time (sessions share one wasm memory).
  const down = laddersFinal ? keep : Math.min(MAX_DOWN_SHARE, keep / REWEIGHTED_SHARE);
  const ladders: Rung<R>[][] = [];
  for (let i = 0; i < L; i++) {
    const ladderOptions = laddersFinal ? programs[i].options : plainOptions(programs[i].options);
    const rungs = await buildLadder(programs[i], ladderOptions, parameters[i], down, LADDER_FLOOR * keep);
    const stopped = rungs.find(isAborted);
    if (stopped) return { aborted: [...ladders.map((r) => r[0]), stopped] };
    ladders.push(rungs);
  }

  // 2. The walk on plain counts and measured logit error: a path of states.
  const path = walk(measure, ladders, target);
  const stepsOf = (states: WalkState[]): PerLayerKeep["steps"] => states.slice(1).map((s) => ({
    layer: s.moved, gain: ladders[s.moved][s.chosen[s.moved]].gain, keptFraction: s.kept / total, relativeLogitError: s.error,
  }));

  // 3. The states' final weights: the ladders' rungs, or each layer solved again with reweighting
  // at the rung's gain (solved once per layer and rung). Warm start: a reweighted solve of the
  // neighbouring rung when there is one (the denser first), else the plain rung (session 6: always), as
  // when every rung is reweighted up the ladder: within the iterations a solve gets, one started
  // from reweighted weights ends sparser and, on the MNIST MLP, more accurate than one started
  // from the plain rung (bench:keep, README).
  const probes: PerLayerKeep["probes"] = [];
  const finalRungs = ladders.map(() => new Map<number, Rung<R>>());
  const warmFor = (i: number, c: number): Rung<R> =>
    (continued ? finalRungs[i].get(c - 1) ?? finalRungs[i].get(c + 1) : undefined) ?? ladders[i][c];
  let stoppedAt: Rung<R>[] | undefined;
  const finalRung = async (i: number, c: number): Promise<Rung<R> | undefined> => {
    if (laddersFinal) return ladders[i][c];
    if (!finalRungs[i].has(c)) {
      const r = await withSession(programs[i], programs[i].options, (solve) => solve(ladders[i][c].gain, warmFor(i, c)));
      probes.push({ layer: i, gain: r.gain, nnz: nnzOf(r) });
      if (isAborted(r)) {
        stoppedAt = ladders.map((rungs, j) => (j === i ? r : rungs[0]));
        return undefined;
      }
      finalRungs[i].set(c, r);
    }
    return finalRungs[i].get(c);
  };
  const finalsOf = async (chosen: number[]): Promise<{ rungs: Rung<R>[]; kept: number } | undefined> => {
    const rungs: Rung<R>[] = [];
    for (let i = 0; i < L; i++) {
      const r = await finalRung(i, chosen[i]);
      if (!r) return undefined;
      rungs.push(r);
    }
    return { rungs, kept: rungs.reduce((s, r) => s + nnzOf(r), 0) };
  };

  // The search along the path: lo the sparsest state known to keep ≥ target, hi the densest known
  // below it. The first guess scales the plain counts by the last state's reweighted/plain ratio.
  const S = path.length - 1;
  const evaluated = new Map<number, { rungs: Rung<R>[]; kept: number }>();
  const evaluate = async (t: number) => {
    if (!evaluated.has(t)) {
      const finals = await finalsOf(path[t].chosen);
      if (!finals) return undefined;
      evaluated.set(t, finals);
    }
    return evaluated.get(t)!;
  };
  let lo = -1, hi = S;
  const last = await evaluate(S);
  if (!last) return { aborted: stoppedAt! };
  if (last.kept >= target) lo = S; // the ladders' sparsest state: nothing sparser to try
  while (hi - lo > 1) {
    let t: number;
    if (lo < 0) {
      const ratio = path[hi].kept > 0 ? evaluated.get(hi)!.kept / path[hi].kept : 1;
      t = 0;
      while (t + 1 < hi && path[t + 1].kept * ratio >= target) t++;
    } else t = (lo + hi) >> 1;
    const at = await evaluate(t);
    if (!at) return { aborted: stoppedAt! };
    if (at.kept >= target) lo = t;
    else hi = t;
    if (t === 0 && lo < 0) break; // the densest state already keeps less than the target
  }
  // The two neighbouring states that bracket the target: the moved layer's gain is bisected between them.
  const lower = lo >= 0 ? { chosen: path[lo].chosen, ...evaluated.get(lo)! } : undefined;
  const upper = hi === lo + 1 && evaluated.has(hi) ? { chosen: path[hi].chosen, moved: path[hi].moved, ...evaluated.get(hi)! } : undefined;
  const candidates = [lower, upper].filter((s) => s !== undefined);
  const closest = candidates.reduce((a, b) => (Math.abs(b.kept - target) < Math.abs(a.kept - target) ? b : a));
  let finals = [...closest.rungs];
  let kept = closest.kept;

  // 4. Between lower and upper one layer moved a rung: bisect its gain to land within the tolerance.
  if (lower && upper && Math.abs(kept - target) > tolerance * target) {
    const i = upper.moved;
    const below = lower.rungs;
    const others = lower.kept - nnzOf(below[i]);
    let low = below[i].gain, high = upper.rungs[i].gain;
    let from = continued ? below[i] : ladders[i][lower.chosen[i]];
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
    if (stopped) return { aborted: below.map((r, j) => (j === i ? stopped : r)) };
    // The other layers are the same in both states.
    finals = below.map((r, j) => (j === i ? best.rung : r));
    kept = best.kept;
  }

  return {
    finals,
    keep: {
      allocation: "per-layer", target: keep, keptFraction: kept / total, gains: finals.map((r) => r.gain),
      ladders: ladders.map((rungs) => rungs.map((r) => ({ gain: r.gain, nnz: nnzOf(r) }))), steps: stepsOf(path), probes,
    },
  };
}
