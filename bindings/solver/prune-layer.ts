// pruneLayer: validate, decide the edge cases, run the ADMM on an engine, report honestly.
import { SPARSE_INPUT_MIN_ZERO_FRACTION } from "../defaults.ts";
import { runAdmm, type ControllerResult } from "./controller.ts";
import { FactorizationError, type AdmmEngine, type LayerProblem, type OutputMeasure } from "./engine.ts";
import { createWasmEngine } from "../wasm/engine.ts";
import { getBackend, type Backend } from "../wasm/loader.ts";
import { checkShapes, checkWarmStart, resolveOptions, toDenseF32 } from "../validate.ts";
import type { ResolvedOptions } from "./settings.ts";
import { ValidationError } from "../errors.ts";
import type { LayerInfo, LayerOptions, LayerResult, MatrixInput, SolveStatus } from "../types.ts";

/** How the engine is made: the default WebAssembly backend, a given one, or another engine (the reference). */
export type EngineFactory = (problem: LayerProblem) => AdmmEngine | Promise<AdmmEngine>;

/**
 * Prunes one layer: the sparsest weights (smallest ‖W‖₁) whose response stays within ε of the
 * layer's output. `input` is [P, N] (one row per calibration sample), `output` is [P, M].
 */
export async function pruneLayer(input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, async (problem) => {
    const backend = await getBackend();
    return createWasmEngine(backend, problem);
  });
}

/** pruneLayer on a given backend (e.g. the scalar build, or one instance per worker). */
export async function pruneLayerWith(backend: Backend, input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, (problem) => createWasmEngine(backend, problem));
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
  return (async () => {
    const release = await acquire();
    const engines = engineCache(prepared, makeEngine);
    try {
      return await solvePrepared(prepared, options, engines.get, performance.now());
    } finally {
      engines.dispose();
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
  const factory = makeEngine ?? (async (problem: LayerProblem) => createWasmEngine(await getBackend(), problem));
  const release = await acquire();
  const engines = engineCache(prepared, factory);
  let open = true;
  return {
    async solve(options = {}) {
      if (!open) throw new ValidationError("session", "an open session", "a closed one");
      for (const key of ["kind", "fitBias", "upperBound", "activeThreshold", "sparseInput"] as const) {
        if (options[key] !== undefined) throw new ValidationError(`options.${key}`, "to be set when the session is opened", options[key]);
      }
      const { epsilon: _e, epsilonGain: _g, ...rest } = fixed;
      const o = resolveOptions({ ...rest, ...options });
      if (o.warmStart) checkWarmStart(o.warmStart, prepared.problem.N, prepared.problem.M, prepared.problem.P);
      return solvePrepared(prepared, o, engines.get, performance.now());
    },
    close() {
      if (!open) return;
      open = false;
      engines.dispose();
      release();
    },
  };
}

/** The validated problem and the statistics every solve on it needs. */
interface Prepared {
  problem: LayerProblem;
  normY: number;
  normYOmega: number;
  maxY: number;
  /** min V over Ω^c (W = 0 is feasible only if it is ≥ 0). */
  minUpperOffOmega: number;
  zeroFraction: number;
}

function prepare(inputIn: MatrixInput, outputIn: MatrixInput, raw: LayerOptions | undefined, o: ResolvedOptions): Prepared {
  const input = toDenseF32(inputIn, "input");
  const output = toDenseF32(outputIn, "output");
  const upper = raw?.upperBound !== undefined ? toDenseF32(raw.upperBound, "options.upperBound") : undefined;
  checkShapes(input, output, upper);
  if (o.warmStart) checkWarmStart(o.warmStart, input.cols, output.cols, input.rows);
  const P = input.rows, N = input.cols, M = output.cols;
  const linear = o.kind === "linear";
  const y = output.data;
  let normY = 0, normYOmega = 0, maxY = 0, minUpper = Infinity;
  for (let i = 0; i < y.length; i++) {
    normY += y[i] * y[i];
    if (linear || y[i] > o.activeThreshold) normYOmega += y[i] * y[i];
    else if (upper) minUpper = Math.min(minUpper, upper.data[i]);
    if (y[i] > maxY) maxY = y[i];
  }
  let zeros = 0;
  for (let i = 0; i < input.data.length; i++) if (input.data[i] === 0) zeros++;
  const designZeroFraction = P * (N + 1) > 0 ? zeros / (P * (N + 1)) : 0;
  const sparse = o.sparseInput === "auto" ? designZeroFraction >= SPARSE_INPUT_MIN_ZERO_FRACTION : o.sparseInput;
  return {
    problem: {
      P, N, M, input: input.data, output: y, upperBound: upper?.data, linear,
      activeThreshold: o.activeThreshold, sparse, fitBias: o.fitBias,
      designNonzeros: input.data.length - zeros + (o.fitBias ? P : 0),
    },
    normY: Math.sqrt(normY),
    normYOmega: Math.sqrt(normYOmega),
    maxY,
    minUpperOffOmega: minUpper,
    zeroFraction: input.data.length > 0 ? zeros / input.data.length : 0,
  };
}

/** Makes the engine on first use and keeps it; a failed factorisation is remembered. */
function engineCache(prepared: Prepared, makeEngine: EngineFactory) {
  let engine: Promise<AdmmEngine> | undefined;
  return {
    get: () => (engine ??= Promise.resolve(makeEngine(prepared.problem))),
    dispose: () => {
      engine?.then((e) => e.dispose(), () => undefined);
    },
  };
}

async function solvePrepared(
  prepared: Prepared, o: ResolvedOptions, getEngine: () => Promise<AdmmEngine>, t0: number,
): Promise<LayerResult> {
  const { problem, normY, normYOmega, maxY } = prepared;
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
  const ctl = await runAdmm({
    engine, options: o, epsilon, maxOutput: maxY, normOutput: normYOmega, size: P * M + (N + 1) * M,
    warmWeights: warm ? stackWeights(warm.weights, warm.bias, N, M) : undefined,
    warmDual: warm?.dual,
  });
  const w2 = engine.readW2();
  const dual = engine.readDual();
  const lowerBound = engine.dualBound(epsilon);
  const weights = w2.slice(0, N * M);
  // Without a bias the ones column is zero: the bias row has no effect and is returned as zeros.
  const bias = problem.fitBias ? w2.slice(N * M, (N + 1) * M) : new Float32Array(M);
  const totalMs = performance.now() - t0;
  return {
    status: finalStatus(ctl, lowerBound, weights, bias),
    weights,
    bias,
    info: buildInfo(problem, base, ctl, ctl.measure, weights, bias, lowerBound, engine, setupMs, totalMs),
    dual: { rho: ctl.rho, u1: dual.u1, u2: dual.u2 },
  };
}

/**
 * A run that did not solve is called infeasible when the certified lower bound on ‖W‖₁ over
 * the feasible set exceeds by far what the iterates use: the dual is diverging (a Farkas ray).
 */
function finalStatus(ctl: ControllerResult, lowerBound: number, weights: Float32Array, bias: Float32Array): SolveStatus {
  if (ctl.status !== "max_iter_reached") return ctl.status;
  const l1 = l1Norm(weights) + l1Norm(bias);
  return lowerBound > 1e3 * Math.max(l1, 1) ? "infeasible" : ctl.status;
}

function stackWeights(w: Float32Array | Float64Array, b: Float32Array | Float64Array, n: number, m: number): Float32Array {
  const out = new Float32Array((n + 1) * m);
  out.set(w);
  out.set(b, n * m);
  return out;
}

function l1Norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

function countNonzeros(a: Float32Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) c++;
  return c;
}

function nnzPerNeuron(weights: Float32Array, bias: Float32Array, n: number, m: number): Int32Array {
  const out = new Int32Array(m);
  for (let j = 0; j < n; j++) for (let k = 0; k < m; k++) if (weights[j * m + k] !== 0) out[k]++;
  for (let k = 0; k < m; k++) if (bias[k] !== 0) out[k]++;
  return out;
}

interface Base {
  epsilon: number;
  zeroFraction: number;
  sparse: boolean;
}

function buildInfo(
  problem: LayerProblem, base: Base, ctl: ControllerResult, measure: OutputMeasure, weights: Float32Array,
  bias: Float32Array, lowerBound: number, engine: AdmmEngine, setupMs: number, totalMs: number,
): LayerInfo {
  const { N, M } = problem;
  const l1 = l1Norm(weights) + l1Norm(bias);
  const normY = frobenius(problem.output);
  const nnzW = countNonzeros(weights);
  const nnzB = countNonzeros(bias);
  return {
    iterations: ctl.iterations,
    primalResidual: ctl.primalResidual,
    dualResidual: ctl.dualResidual,
    primalTolerance: ctl.primalTolerance,
    dualTolerance: ctl.dualTolerance,
    scale: engine.scale,
    rho: ctl.rho,
    rhoInitial: ctl.rhoInitial,
    rhoUpdates: ctl.rhoUpdates,
    epsilon: base.epsilon,
    l1Norm: l1,
    lowerBound,
    optimalityGap: l1 - lowerBound,
    relativeGap: l1 > 0 ? (l1 - lowerBound) / l1 : 0,
    nnz: nnzW + nnzB,
    nnzWeights: nnzW,
    nnzBias: nnzB,
    nnzPerNeuron: nnzPerNeuron(weights, bias, N, M),
    outputError: measure.outputError,
    relativeOutputError: normY > 0 ? measure.outputError / normY : 0,
    fitError: measure.fitError,
    leakage: measure.leakage,
    setupMs,
    solveMs: ctl.solveMs,
    totalMs,
    simd: engine.simd,
    sparseInput: base.sparse,
    inputZeroFraction: base.zeroFraction,
  };
}

function frobenius(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** W = 0 (feasible here, hence optimal: ‖0‖₁ = 0), measured directly. */
function trivialResult(problem: LayerProblem, base: Base, o: ResolvedOptions, ms: number): LayerResult {
  const { P, N, M, output, linear } = problem;
  let fit = 0, out = 0, leak = 0;
  for (let i = 0; i < output.length; i++) {
    const yi = output[i];
    out += yi * yi;
    if (linear || yi > o.activeThreshold) fit += yi * yi;
    else if (problem.upperBound) leak = Math.max(leak, -problem.upperBound[i]);
  }
  const normY = Math.sqrt(out);
  const info: LayerInfo = {
    iterations: 0, primalResidual: 0, dualResidual: 0, primalTolerance: 0, dualTolerance: 0, scale: 1,
    rho: NaN, rhoInitial: NaN, rhoUpdates: 0, epsilon: base.epsilon, l1Norm: 0, lowerBound: 0,
    optimalityGap: 0, relativeGap: 0, nnz: 0, nnzWeights: 0, nnzBias: 0, nnzPerNeuron: new Int32Array(M),
    outputError: Math.sqrt(out), relativeOutputError: normY > 0 ? 1 : 0, fitError: Math.sqrt(fit), leakage: leak,
    setupMs: ms, solveMs: 0, totalMs: ms, simd: false, sparseInput: base.sparse, inputZeroFraction: base.zeroFraction,
  };
  return {
    status: "solved",
    weights: new Float32Array(N * M),
    bias: new Float32Array(M),
    info,
    dual: { rho: 1, u1: new Float32Array(P * M), u2: new Float32Array((N + 1) * M) },
  };
}

/** A solve that could not start its iterations (C̃ not factorable): outputs are NaN, never stale numbers. */
function failedResult(problem: LayerProblem, base: Base, status: SolveStatus, ms: number): LayerResult {
  const { P, N, M } = problem;
  const info: LayerInfo = {
    iterations: 0, primalResidual: NaN, dualResidual: NaN, primalTolerance: NaN, dualTolerance: NaN, scale: NaN,
    rho: NaN, rhoInitial: NaN, rhoUpdates: 0, epsilon: base.epsilon, l1Norm: NaN, lowerBound: NaN,
    optimalityGap: NaN, relativeGap: NaN, nnz: 0, nnzWeights: 0, nnzBias: 0, nnzPerNeuron: new Int32Array(M),
    outputError: NaN, relativeOutputError: NaN, fitError: NaN, leakage: NaN,
    setupMs: ms, solveMs: 0, totalMs: ms, simd: false, sparseInput: base.sparse, inputZeroFraction: base.zeroFraction,
  };
  return {
    status,
    weights: new Float32Array(N * M).fill(NaN),
    bias: new Float32Array(M).fill(NaN),
    info,
    dual: { rho: NaN, u1: new Float32Array(P * M), u2: new Float32Array((N + 1) * M) },
  };
}
