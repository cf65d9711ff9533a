// The solves of the per-layer keep allocation (keep-allocation.ts): each layer's ladder of plain ℓ1
// solves, gains a factor √2 apart, each rung warm-started from the one before on one session (its
// factor kept); and the solves at chosen gains with the run's final options (reweighted ℓ1 when
// asked), warm-started from the plain rung. Reweighting only where the allocation lands, instead
// of at every rung, is what keeps the ladders cheap: a reweighted solve is 1 + rounds solves.
// A layer is "a program": whatever opens a session of solves on it (a Dense layer of a chain here;
// a graph's Dense, Conv2D or DepthwiseConv2D node in graph-keep.ts), so the same ladders serve both.
import { openLayerSession, type LayerSession } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult, ProgressInfo } from "../types.ts";
import { sessionOptions } from "./density-search.ts";

const RUNG_FACTOR = Math.SQRT2;
/** The ladder starts at the default gain and goes down to MIN_GAIN, up to MAX_GAIN (ε ≥ ‖Y‖: no weights). */
const START_GAIN = 0.05, MIN_GAIN = 1e-4, MAX_GAIN = 1;

/** What a rung keeps of a solve: its weights, and its dual to warm-start the solves near it. */
export type RungResult = Pick<LayerResult, "status" | "weights" | "bias"> & { dual?: LayerResult["dual"] };

/** One solved budget of one layer, with its count of nonzero parameters. */
export interface Rung<R extends RungResult = LayerResult> {
  gain: number;
  ms: number;
  nnz: number;
  result: R;
}

export const nnzOf = (r: { nnz: number }) => r.nnz;

export type Hooks = { signal?: AbortSignal; onProgress?: (p: ProgressInfo) => void };

/** A solve on an open session at `gain`, warm-started from `from` (its weights and dual). */
export type RungSolver<R extends RungResult = LayerResult> = (gain: number, from?: Rung<R>) => Promise<Rung<R>>;

/** One layer's program: the run's options for it, and how to open a session of solves with some options. */
export interface LayerProgram<R extends RungResult = LayerResult> {
  options: LayerOptions;
  open(options: LayerOptions): Promise<{ solve: RungSolver<R>; close(): void }>;
}

/** Solves on a layer session (Dense or conv), each result converted and counted by `as`. */
export function sessionSolver<R extends RungResult>(
  session: LayerSession, perSolve: LayerOptions, hooks: Hooks, as: (r: LayerResult) => { result: R; nnz: number },
): RungSolver<R> {
  return async (gain, from) => {
    const started = performance.now();
    const warm = from && from.result.status !== "numerical_error" ? from.result : undefined;
    const warmStart = warm ? { weights: warm.weights, bias: warm.bias, dual: warm.dual } : undefined;
    const solved = as(await session.solve({ ...perSolve, ...hooks, epsilonGain: gain, warmStart }));
    return { gain, ms: performance.now() - started, ...solved };
  };
}

/** A chain's Dense layer as a program: its input and target signals (the original network's). */
export function denseProgram(
  input: Float32Array, target: Float32Array, P: number, inputs: number, units: number, options: LayerOptions, hooks: Hooks,
): LayerProgram {
  return {
    options,
    open: async (o) => {
      const { fixed, perSolve } = sessionOptions(o);
      const session = await openLayerSession({ data: input, rows: P, cols: inputs }, { data: target, rows: P, cols: units }, fixed);
      return { solve: sessionSolver(session, perSolve, hooks, (r) => ({ result: r, nnz: r.info.nnz })), close: () => session.close() };
    },
  };
}

/** Runs `work` with a session on the layer (one at a time: sessions share one wasm memory). */
export async function withSession<T, R extends RungResult>(layer: LayerProgram<R>, options: LayerOptions, work: (solve: RungSolver<R>) => Promise<T>): Promise<T> {
  const session = await layer.open(options);
  try {
    return await work(session.solve);
  } finally {
    session.close();
  }
}

/** The layer's options without reweighting: the program the ladders are built on. */
export function plainOptions(options: LayerOptions): LayerOptions {
  const { reweight: _r, ...plain } = options;
  return plain;
}

/**
 * The layer's ladder with `options` (plain ℓ1, or the run's own to reweight every rung), densest rung first: from START_GAIN down until the layer keeps at
 * least `down` of its parameters (or a rung keeps no more than the one above it), then up until it keeps at most `up` of them, nothing, or the
 * budget reaches ‖Y‖. Stops at the first aborted rung (returned last).
 */
export function buildLadder<R extends RungResult>(layer: LayerProgram<R>, options: LayerOptions, parameters: number, down: number, up: number): Promise<Rung<R>[]> {
  return withSession(layer, options, async (solve) => {
    const share = (r: Rung<R>) => nnzOf(r) / parameters;
    const start = await solve(START_GAIN);
    const rungs = [start];
    // (A smaller budget that kept no more weights ends the way down: plain ℓ1 has found its densest.)
    let growing = true;
    while (growing && share(rungs[0]) < down && rungs[0].gain / RUNG_FACTOR >= MIN_GAIN && rungs[0].result.status !== "aborted") {
      const denser = await solve(rungs[0].gain / RUNG_FACTOR, rungs[0]);
      growing = nnzOf(denser) > nnzOf(rungs[0]);
      rungs.unshift(denser);
    }
    let top = rungs[rungs.length - 1];
    while (share(top) > up && nnzOf(top) > 0 && top.gain * RUNG_FACTOR <= MAX_GAIN * (1 + 1e-12) && top.result.status !== "aborted") {
      rungs.push((top = await solve(top.gain * RUNG_FACTOR, top)));
    }
    return rungs;
  });
}
