// pruneLayer: validate, decide the edge cases, run the ADMM on an engine, report honestly.
import { REDUCED_FORM_MAX_ROWS, REDUCED_FORM_MIN_SAMPLES_PER_ROW } from "../defaults.ts";
import { biasUnitOf } from "./bias-unit.ts";
import { runAdmm } from "./controller.ts";
import { FactorizationError, type AdmmEngine, type LayerProblem } from "./engine.ts";
import { checkWeightsFit, layerWUpdateThatFits, takesSparseProducts } from "./memory-check.ts";
import { buildInfo, failedResult, finalStatus, stackWeights, trivialResult } from "./result.ts";
import { chooseRound, countRoundNonzeros, reweightInfo, reweightRounds, type RoundOutcome } from "./reweight.ts";
import { createEngine } from "../wasm/create-engine.ts";
import { getBackend, type Backend } from "../wasm/loader.ts";
import { checkShapes, checkWarmStart, resolveOptions, toDenseF32 } from "../validate.ts";
import type { ResolvedOptions } from "./settings.ts";
import { ValidationError } from "../errors.ts";
import type { LayerOptions, LayerResult, MatrixInput } from "../types.ts";

/** How the engine is made: the default WebAssembly backend, a given one, or another engine (the reference). */
export type EngineFactory = (problem: LayerProblem) => AdmmEngine | Promise<AdmmEngine>;

/**
 * Prunes one layer: the sparsest weights (smallest ‖W‖₁) whose response stays within ε of the
 * layer's output. `input` is [P, N] (one row per calibration sample), `output` is [P, M].
 */
export async function pruneLayer(input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, async (problem) => {
    const backend = await getBackend();
    return createEngine(backend, problem);
  });
}

/** pruneLayer on a given backend (e.g. the scalar build, or one instance per worker). */
export async function pruneLayerWith(backend: Backend, input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, (problem) => createEngine(backend, problem));
}

// Solves on one wasm instance share its memory: one at a time, in call order.
let tail: Promise<void> = Promise.resolve();
function acquire(): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const previous = tail;
  tail = previous.then(() => held);
  return previous.then(() => release);
}

export function solveLayer(
  inputIn: MatrixInput,
  outputIn: MatrixInput,
  optionsIn: LayerOptions | undefined,
  makeEngine: EngineFactory,
): Promise<LayerResult> {
  // Validate synchronously, before queueing, so errors come at once and nothing runs.
  const options = resolveOptions(optionsIn);
  const prepared = prepare(inputIn, outputIn, optionsIn, options);
  return solveQueued(prepared, options, makeEngine);
}

/** Solves a validated problem when the wasm memory is free (solves run one at a time, in call order). */
export function solveQueued(prepared: Prepared, options: ResolvedOptions, makeEngine: EngineFactory): Promise<LayerResult> {
  return (async () => {
    const release = await acquire();
    const engines = engineCache(prepared, makeEngine);
    try {
      return await solvePrepared(prepared, options, engines.get, performance.now());
    } finally {
      // A threaded engine's workers are gone before the result is handed over.
      await engines.dispose();
      release();
    }
  })();
}

/** A layer kept set up between solves (same data, different ε or tolerances): the factor is reused. */
export interface LayerSession {
  solve(options?: LayerOptions): Promise<LayerResult>;
  /** Frees the engine and lets other solves run. */
  close(): void;
}

/**
 * Opens a session on one layer's data. `fixed` holds what cannot change between solves (kind,
 * upperBound, activeThreshold, sparseInput); each `solve` takes the rest. Other solves on the
 * same process wait until `close()`.
 */
export async function openLayerSession(
  inputIn: MatrixInput, outputIn: MatrixInput, fixed: LayerOptions = {}, makeEngine?: EngineFactory,
): Promise<LayerSession> {
  const fixedOptions = resolveOptions(fixed);
  const prepared = prepare(inputIn, outputIn, fixed, fixedOptions);
  const factory = makeEngine ?? (async (problem: LayerProblem) => createEngine(await getBackend(), problem));
  return openPreparedSession(prepared, fixed, factory);
}

/**
 * A session on a validated problem (pruneLayer's, or a conv layer's in operator form): `fixed`
 * holds the LayerOptions it was prepared with, the engine `makeEngine` makes is kept between solves.
 */
export async function openPreparedSession(prepared: Prepared, fixed: LayerOptions, makeEngine: EngineFactory): Promise<LayerSession> {
  const factory = makeEngine;
  const release = await acquire();
  const engines = engineCache(prepared, factory);
  let open = true;
  return {
    async solve(options = {}) {
      if (!open) throw new ValidationError("session", "an open session", "a closed one");
      for (const key of ["kind", "fitBias", "upperBound", "activeThreshold", "sparseInput", "wUpdate"] as const) {
        if (options[key] !== undefined) throw new ValidationError(`options.${key}`, "to be set when the session is opened", options[key]);
      }
      const { epsilon: _e, epsilonGain: _g, ...rest } = fixed;
      const o = resolveOptions({ ...rest, ...options });
      if (o.warmStart) checkWarmStart(o.warmStart, prepared.problem.N, prepared.problem.M, dualRows(prepared.problem.form, prepared.problem.P, prepared.problem.N));
      return solvePrepared(prepared, o, engines.get, performance.now());
    },
    close() {
      if (!open) return;
      open = false;
      void engines.dispose();
      release();
    },
  };
}

/** The validated problem and the statistics every solve on it needs. */
export interface Prepared {
  problem: LayerProblem;
  normY: number;
  normYOmega: number;
  /** min V over Ω^c (W = 0 is feasible only if it is ≥ 0). */
  minUpperOffOmega: number;
  zeroFraction: number;
}

function prepare(inputIn: MatrixInput, outputIn: MatrixInput, raw: LayerOptions | undefined, o: ResolvedOptions): Prepared {
  const input = toDenseF32(inputIn, "input");
  const output = toDenseF32(outputIn, "output");
  const upper = raw?.upperBound !== undefined ? toDenseF32(raw.upperBound, "options.upperBound") : undefined;
  checkShapes(input, output, upper);
  const P = input.rows, N = input.cols, M = output.cols;
  const what = `a layer with ${P} samples, ${N} inputs and ${M} outputs`;
  checkWeightsFit(what, N, M);
  const linear = o.kind === "linear";
  const form = formOf(o, linear, P, N, M);
  if (o.warmStart) checkWarmStart(o.warmStart, N, M, dualRows(form, P, N));
  const y = output.data;
  let zeros = 0;
  for (let i = 0; i < input.data.length; i++) if (input.data[i] === 0) zeros++;
  const sparse = takesSparseProducts(zeros, P, N, o.sparseInput);
  const problem: LayerProblem = {
    P, N, M, input: input.data, output: y, upperBound: upper?.data, linear,
    activeThreshold: o.activeThreshold, sparse, fitBias: o.fitBias,
    biasUnit: biasUnitOf(input.data, P, N),
    designNonzeros: input.data.length - zeros + (o.fitBias ? P : 0),
    form,
    l1Weighted: o.reweight !== undefined,
  };
  // The samples form's W-update, chosen (and the memory checked) before anything is allocated.
  if (form === "samples") problem.wUpdate = layerWUpdateThatFits(what, problem, o.wUpdate);
  return {
    problem,
    ...outputStatistics(y, upper?.data, linear, o.activeThreshold),
    zeroFraction: input.data.length > 0 ? zeros / input.data.length : 0,
  };
}

/**
 * The reduced form pays when the samples outnumber the rows of R and R is small enough for its
 * QR to be cheap: asked for by linearForm, or chosen ("auto") for a linear layer with
 * P ≥ REDUCED_FORM_MIN_SAMPLES_PER_ROW·(N + 1) and N + 1 ≤ REDUCED_FORM_MAX_ROWS — unless a
 * warm-start dual of the samples form is given (a dual belongs to the form that produced it).
 */
function formOf(o: ResolvedOptions, linear: boolean, P: number, N: number, M: number): LayerProblem["form"] {
  if (!linear || o.linearForm === "samples" || o.wUpdate === "cg" || o.wUpdate === "woodbury") return "samples";
  if (o.linearForm === "reduced") {
    if (P < N + 1) throw new ValidationError("options.linearForm", `"samples" or "auto" for a layer with fewer samples than inputs + 1 (${N + 1})`, `"reduced" with ${P} samples`);
    return "reduced";
  }
  if (o.warmStart?.dual && o.warmStart.dual.u1?.length === P * M) return "samples";
  const pays = P >= REDUCED_FORM_MIN_SAMPLES_PER_ROW * (N + 1) && N + 1 <= REDUCED_FORM_MAX_ROWS;
  return pays ? "reduced" : "samples";
}

/** Rows of the duals: U1 one per sample (per row of R in the reduced form), U2 one per weight row. */
function dualRows(form: LayerProblem["form"], P: number, N: number): { u1: number; u2: number } {
  // The reduced form's engine has one more weight row: its own (unused) bias.
  return form === "reduced" ? { u1: N + 1, u2: N + 2 } : { u1: P, u2: N + 1 };
}

/** ‖Y‖_F, ‖Y_Ω‖_F (all of Y for a linear layer) and min V over Ω^c (+∞ without V). */
export function outputStatistics(
  y: Float32Array, upper: Float32Array | undefined, linear: boolean, activeThreshold: number,
): Pick<Prepared, "normY" | "normYOmega" | "minUpperOffOmega"> {
  let normY = 0, normYOmega = 0, minUpper = Infinity;
  for (let i = 0; i < y.length; i++) {
    normY += y[i] * y[i];
    if (linear || y[i] > activeThreshold) normYOmega += y[i] * y[i];
    else if (upper) minUpper = Math.min(minUpper, upper[i]);
  }
  return { normY: Math.sqrt(normY), normYOmega: Math.sqrt(normYOmega), minUpperOffOmega: minUpper };
}

/** Makes the engine on first use and keeps it; a failed factorisation is remembered. */
function engineCache(prepared: Prepared, makeEngine: EngineFactory) {
  let engine: Promise<AdmmEngine> | undefined;
  return {
    get: () => (engine ??= Promise.resolve(makeEngine(prepared.problem))),
    dispose: async (): Promise<void> => {
      await engine?.then((e) => e.dispose(), () => undefined);
    },
  };
}

async function solvePrepared(
  prepared: Prepared, o: ResolvedOptions, getEngine: () => Promise<AdmmEngine>, t0: number,
): Promise<LayerResult> {
  const { problem, normY, normYOmega } = prepared;
  const { P, N, M } = problem;
  const epsilon = o.epsilon ?? o.epsilonGain * normY;
  const base = { epsilon, zeroFraction: prepared.zeroFraction, sparse: problem.sparse };
  const zeroFeasible = epsilon >= normYOmega && prepared.minUpperOffOmega >= 0;
  if (zeroFeasible || P === 0 || M === 0) return trivialResult(problem, base, o, performance.now() - t0);

  let engine: AdmmEngine;
  try {
    engine = await getEngine();
  } catch (e) {
    if (e instanceof FactorizationError) return failedResult(problem, base, "numerical_error", performance.now() - t0);
    throw e;
  }
  const setupMs = performance.now() - t0;
  const warm = o.warmStart;
  if (o.reweight && !engine.setL1Weights) {
    throw new ValidationError("options.reweight", "to be set when the session is opened (its engine was set up for the plain ℓ1 program)", o.reweight);
  }
  engine.setL1Weights?.(undefined);
  // Below the least-squares floor no weights meet the budget (certified by the QR): solve for the
  // sparsest weights at the floor instead, and report the layer infeasible.
  const floor = engine.outputFloor;
  const belowFloor = floor !== undefined && floor > epsilon * (1 + o.feasTol);
  // Fewer samples than rows, with an exact W-update: the controller's first ρ and stop for that
  // case. Not with CG: its inexact solves at P ≪ N̄ swing the fit between 0.8 and 1.2 ε for
  // hundreds of iterations: with the first ρ below, the 20 × 14,000 layer reached maxIter (2000);
  // with the old one and the budget-use test it had not stopped after 600.
  const fewSamples = P < N + 1 && problem.wUpdate !== "cg"
    ? { samples: P, rows: N + 1, budgetActive: prepared.minUpperOffOmega >= 0 && !belowFloor }
    : undefined;
  const solve = (warmWeights?: Float32Array, warmDual?: { rho: number; u1: Float32Array; u2: Float32Array }, timeLimitMs = o.timeLimitMs) => runAdmm({
    engine, options: { ...o, timeLimitMs }, epsilon: belowFloor ? floor : epsilon, normOutput: normYOmega,
    size: engine.residualEntries ?? P * M + (N + 1) * M, fewSamples, warmWeights, warmDual,
  });
  const ctl0 = await solve(warm ? stackWeights(warm.weights, warm.bias, N, M, problem.biasUnit) : undefined, warm?.dual);
  if (ctl0.status === "numerical_error") {
    return failedResult(problem, base, "numerical_error", performance.now() - t0, { ctl: ctl0, setupMs, simd: engine.simd, threads: engine.threads });
  }
  const first: RoundOutcome = {
    ctl: ctl0, status: ctl0.status, w2: engine.readW2(), dual: engine.readDual(), c: undefined, deltaAbsolute: 0,
    lowerBound: engine.dualBound(epsilon),
  };
  if (ctl0.status === "max_iter_reached") {
    first.status = finalStatus(ctl0, Math.max(first.lowerBound, engine.dualBound(epsilon, "increment")), engine.leastSquares().l1);
  }
  if (belowFloor && (first.status === "solved" || first.status === "solved_inaccurate" || first.status === "max_iter_reached")) first.status = "infeasible";
  const rounds = o.reweight
    ? await reweightRounds(engine, first, o.reweight.rounds, o.reweight.delta, solve, () => engine.dualBound(epsilon),
      () => o.signal?.aborted === true, o.timeLimitMs)
    : [first];
  const nonzeros = (w: Float32Array) => countRoundNonzeros(w, N, M, problem.fitBias);
  const chosen = rounds[chooseRound(rounds, nonzeros)];
  const { w2, dual, lowerBound } = chosen;
  const ctl = { ...chosen.ctl, iterations: sum(rounds, (r) => r.ctl.iterations), solveMs: sum(rounds, (r) => r.ctl.solveMs) };
  const weights = w2.slice(0, N * M);
  // The engine's bias row is bias / biasUnit. Without a bias the ones column is zero: the bias
  // row has no effect and is returned as zeros.
  const bias = problem.fitBias ? w2.slice(N * M, (N + 1) * M).map((v) => v * problem.biasUnit) : new Float32Array(M);
  const totalMs = performance.now() - t0;
  const status = chosen.status;
  const info = buildInfo(problem, base, ctl, ctl.measure, weights, bias, belowFloor ? Infinity : lowerBound, engine, setupMs, totalMs);
  if (o.reweight) {
    info.reweight = reweightInfo(rounds, rounds.indexOf(chosen), problem, nonzeros);
    const objective = info.reweight.rounds[info.reweight.returned].objective;
    info.optimalityGap = objective - info.lowerBound;
    info.relativeGap = objective > 0 ? info.optimalityGap / objective : 0;
  }
  if (typeof o.threads === "number" && o.threads > info.threads && info.threadsReason === undefined) {
    info.threadsReason = "only pruneLayer and the network drivers' solves in this thread run a layer on several threads (not pruneLayerWith, sessions or pool jobs)";
  }
  return {
    status,
    weights,
    bias,
    info,
    dual: { rho: ctl.rho, u1: dual.u1, u2: dual.u2 },
  };
}

function sum<T>(items: T[], of: (t: T) => number): number {
  let s = 0;
  for (const t of items) s += of(t);
  return s;
}
