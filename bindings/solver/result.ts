// What a solve returns: its status, and an info measured on the returned weights (never taken
// from the iteration); the results of the solves that need no iteration or could not start one.
import type { ControllerResult } from "./controller.ts";
import type { AdmmEngine, LayerProblem, OutputMeasure } from "./engine.ts";
import type { ResolvedOptions } from "./settings.ts";
import { INFEASIBLE_FACTOR } from "../defaults.ts";
import type { LayerInfo, LayerResult, SolveStatus } from "../types.ts";

/**
 * A run stopped by maxIter is infeasible only on a certificate: a weak-duality bound (from the
 * dual or from its last increment, which points along a Farkas ray when no weights exist) that
 * puts every weights meeting the budget above INFEASIBLE_FACTOR × the ridge least-squares
 * weights' ℓ1 norm. The iterates play no part (early ones are near 0 whatever the problem).
 */
export function finalStatus(ctl: ControllerResult, certifiedBound: number, ridgeL1: number): SolveStatus {
  if (ctl.status !== "max_iter_reached") return ctl.status;
  return certifiedBound > INFEASIBLE_FACTOR * ridgeL1 ? "infeasible" : ctl.status;
}

/** [W; b / biasUnit]: weights and bias in the engine's variables. */
export function stackWeights(w: Float32Array | Float64Array, b: Float32Array | Float64Array, n: number, m: number, biasUnit: number): Float32Array {
  const out = new Float32Array((n + 1) * m);
  out.set(w);
  for (let k = 0; k < m; k++) out[n * m + k] = b[k] / biasUnit;
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

export function buildInfo(
  problem: LayerProblem, base: Base, ctl: ControllerResult, measure: OutputMeasure, weights: Float32Array,
  bias: Float32Array, lowerBound: number, engine: AdmmEngine, setupMs: number, totalMs: number,
): LayerInfo {
  const { N, M } = problem;
  const l1 = l1Norm(weights) + l1Norm(bias) / problem.biasUnit;
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
    biasUnit: problem.biasUnit,
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
    threads: engine.threads,
    ...(engine.threadsReason !== undefined ? { threadsReason: engine.threadsReason } : {}),
    sparseInput: base.sparse,
    linearForm: problem.form, wUpdate: problem.wUpdate ?? "factored",
    inputZeroFraction: base.zeroFraction,
  };
}

function frobenius(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** W = 0 (feasible here, hence optimal: ‖0‖₁ = 0), measured directly. */
export function trivialResult(problem: LayerProblem, base: Base, o: ResolvedOptions, ms: number): LayerResult {
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
    rho: NaN, rhoInitial: NaN, rhoUpdates: 0, epsilon: base.epsilon, l1Norm: 0, biasUnit: problem.biasUnit, lowerBound: 0,
    optimalityGap: 0, relativeGap: 0, nnz: 0, nnzWeights: 0, nnzBias: 0, nnzPerNeuron: new Int32Array(M),
    outputError: Math.sqrt(out), relativeOutputError: normY > 0 ? 1 : 0, fitError: Math.sqrt(fit), leakage: leak,
    setupMs: ms, solveMs: 0, totalMs: ms, simd: false, threads: 1, sparseInput: base.sparse, linearForm: problem.form, wUpdate: problem.wUpdate ?? "factored", inputZeroFraction: base.zeroFraction,
  };
  return {
    status: "solved",
    weights: new Float32Array(N * M),
    bias: new Float32Array(M),
    info,
    dual: { rho: 1, u1: new Float32Array(P * M), u2: new Float32Array((N + 1) * M) },
  };
}

/**
 * A solve that failed numerically: C̃ not factorable (no iteration ran), or non-finite iterates
 * (`ran`: what the iterations did). Weights and measures are NaN, never stale plausible numbers.
 */
export function failedResult(
  problem: LayerProblem, base: Base, status: SolveStatus, ms: number,
  ran?: { ctl: ControllerResult; setupMs: number; simd: boolean; threads: number },
): LayerResult {
  const { P, N, M } = problem;
  const info: LayerInfo = {
    iterations: ran?.ctl.iterations ?? 0, primalResidual: NaN, dualResidual: NaN, primalTolerance: NaN, dualTolerance: NaN, scale: NaN,
    rho: NaN, rhoInitial: NaN, rhoUpdates: 0, epsilon: base.epsilon, l1Norm: NaN, biasUnit: problem.biasUnit, lowerBound: NaN,
    optimalityGap: NaN, relativeGap: NaN, nnz: 0, nnzWeights: 0, nnzBias: 0, nnzPerNeuron: new Int32Array(M),
    outputError: NaN, relativeOutputError: NaN, fitError: NaN, leakage: NaN,
    setupMs: ran?.setupMs ?? ms, solveMs: ran?.ctl.solveMs ?? 0, totalMs: ms, simd: ran?.simd ?? false, threads: ran?.threads ?? 1,
    sparseInput: base.sparse, linearForm: problem.form, wUpdate: problem.wUpdate ?? "factored", inputZeroFraction: base.zeroFraction,
  };
  if (ran) Object.assign(info, { rhoInitial: ran.ctl.rhoInitial, rhoUpdates: ran.ctl.rhoUpdates });
  return {
    status,
    weights: new Float32Array(N * M).fill(NaN),
    bias: new Float32Array(M).fill(NaN),
    info,
    dual: { rho: NaN, u1: new Float32Array(P * M), u2: new Float32Array((N + 1) * M) },
  };
}
