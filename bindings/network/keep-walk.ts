// The greedy walk of the per-layer keep allocation (keep-allocation.ts): from the ladders' densest
// rungs, move step by step the one layer whose next rung adds the least measured logit error (on
// the calibration samples) per weight removed, until the network keeps at most the target. The
// error is measured by a WalkMeasure: a chain's layers forward from the changed one (here), or a
// graph's forward pass (graph-keep.ts).
import { applyPrunedLayer, distance, frobenius } from "./forward.ts";
import { nnzOf, type Rung, type RungResult } from "./keep-ladders.ts";
import type { DenseLayerSpec, DenseNetwork } from "./network.ts";

/** One state of a walk: every layer's rung (index in its ladder), the count kept, the layer moved to reach it, the relative logit error. */
export interface WalkState {
  chosen: number[];
  kept: number;
  moved: number;
  error: number;
}

/**
 * The relative logit error of the state `current` (every layer's rung) with layer i's rung replaced
 * by `rung`; accept() tells the measure that this is now the current state (to keep its signals).
 */
export interface WalkMeasure<R extends RungResult> {
  trial(current: readonly Rung<R>[], i: number, rung: Rung<R>): { error: number; accept(): void };
}

/** The network and the original signals of every layer on the calibration samples x [P, inputs]. */
interface WalkNetwork {
  network: DenseNetwork;
  x: Float32Array;
  P: number;
  relu: boolean[];
  original: Float32Array[];
}

/** A chain's measure: layers i.. recomputed from the current state's signal into layer i. */
export function chainMeasure(net: WalkNetwork): WalkMeasure<Rung["result"]> {
  const { network, x, P, relu, original } = net;
  const L = network.layers.length;
  const logitsNorm = frobenius(original[L - 1]) || 1;
  const specOf = (i: number, r: Rung): DenseLayerSpec => ({ ...network.layers[i], kernel: r.result.weights, bias: r.result.bias });
  let signals: Float32Array[] = [];
  return {
    trial(current, i, rung) {
      // (the rungs' kernels are sparse: their zeros are skipped, with applyLayer's values)
      const tail: Float32Array[] = [];
      let s = i === 0 ? x : signals[i - 1];
      for (let k = i; k < L; k++) tail.push((s = applyPrunedLayer(specOf(k, k === i ? rung : current[k]), s, P, relu[k])));
      return {
        error: distance(tail[tail.length - 1], original[L - 1]) / logitsNorm,
        accept: () => { signals = [...signals.slice(0, i), ...tail]; },
      };
    },
  };
}

/**
 * The walk's path along `ladders` (every layer's rungs, densest first), from the densest rungs to
 * the first state that keeps at most `target`, or to where no layer has a rung left that keeps
 * fewer weights. A layer's next rung is the first above its current one that keeps fewer weights
 * (ℓ1 counts are not strictly monotone in the gain), so every move removes weights; ties keep the
 * lower layer.
 */
export function walk<R extends RungResult>(measure: WalkMeasure<R>, ladders: Rung<R>[][], target: number): WalkState[] {
  const L = ladders.length;
  const current = ladders.map((rungs) => rungs[0]);
  const start = measure.trial(current, 0, current[0]);
  start.accept();
  const path: WalkState[] = [{ chosen: new Array<number>(L).fill(0), kept: current.reduce((s, r) => s + nnzOf(r), 0), moved: -1, error: start.error }];
  while (path[path.length - 1].kept > target) {
    const state = path[path.length - 1];
    let best: { i: number; j: number; rung: Rung<R>; ratio: number; error: number; accept(): void } | undefined;
    for (let i = 0; i < L; i++) {
      let next: { j: number; rung: Rung<R> } | undefined;
      for (let j = state.chosen[i] + 1; j < ladders[i].length && !next; j++) {
        const rung = ladders[i][j];
        if (nnzOf(rung) < nnzOf(current[i])) next = { j, rung };
      }
      if (!next) continue;
      const trial = measure.trial(current, i, next.rung);
      // Error added per weight removed.
      const ratio = (trial.error - state.error) / (nnzOf(current[i]) - nnzOf(next.rung));
      if (!best || ratio < best.ratio) best = { i, ...next, ratio, ...trial };
    }
    if (!best) break; // every ladder at its top: as few weights as the ladders go
    const { i, j, rung } = best;
    path.push({ chosen: state.chosen.map((c, k) => (k === i ? j : c)), kept: state.kept + nnzOf(rung) - nnzOf(current[i]), moved: i, error: best.error });
    current[i] = rung;
    best.accept();
  }
  return path;
}
