// Iteratively reweighted ℓ1 (Candès, Wakin & Boyd 2008) on one layer: after the plain Net-Trim
// solve, each round solves the same program with the objective Σ c_ij |W̄_ij|,
// c_ij = κ / (|W̄_ij| + δ) from the previous round's weights, warm-started from its weights and
// duals. Small weights get large weights and go to zero; the constraint (the budget) is the same
// in every round, so every round's weights meet it when the round is solved. Each round is a
// convex program with its own certificate (dualBound with the weights c).
import type { AdmmEngine } from "./engine.ts";
import type { ControllerResult } from "./controller.ts";
import type { LayerProblem } from "./engine.ts";
import type { ReweightInfo, SolveStatus } from "../types.ts";

/** The ℓ1 weights of the next round, and the absolute δ they used. */
interface L1Weights {
  c: Float32Array;
  deltaAbsolute: number;
}

/**
 * c = κ / (|w| + δ) with δ = `delta` × the mean |w| over the nonzero entries of `w` (the engine's
 * variables [W; b/u]), so that δ follows the layer's units; κ makes Σ c|w| = Σ |w| (the previous
 * weights cost the same in the new objective), which keeps the threshold c/ρ on the scale the
 * ADMM's ρ was balanced for. Undefined when w is all zero (nothing to reweight).
 */
function l1WeightsFrom(w: Float32Array, delta: number): L1Weights | undefined {
  let sum = 0, nonzeros = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]);
    if (a > 0) { sum += a; nonzeros++; }
  }
  if (nonzeros === 0) return undefined;
  const deltaAbsolute = delta * (sum / nonzeros);
  let weighted = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]);
    weighted += a / (a + deltaAbsolute);
  }
  const kappa = sum / weighted;
  const c = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) c[i] = kappa / (Math.abs(w[i]) + deltaAbsolute);
  return { c, deltaAbsolute };
}

/** Σ c|w| in f64 over the first `count` entries (c undefined: all 1), the objective of a round. */
function weightedL1(w: Float32Array, c: Float32Array | undefined, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += (c ? c[i] : 1) * Math.abs(w[i]);
  return s;
}

/** Entries of W2 = [W; b/u] that are returned: the bias row only when the layer has a bias. */
function returnedEntries(n: number, m: number, fitBias: boolean): number {
  return (fitBias ? n + 1 : n) * m;
}

/** Nonzeros of a round's returned weights (bias included when the layer has one). */
export function countRoundNonzeros(w2: Float32Array, n: number, m: number, fitBias: boolean): number {
  const count = returnedEntries(n, m, fitBias);
  let k = 0;
  for (let i = 0; i < count; i++) if (w2[i] !== 0) k++;
  return k;
}

/** info.reweight: every round measured on its own weights, and the returned one. */
export function reweightInfo(
  rounds: RoundOutcome[], returned: number, problem: LayerProblem, nonzeros: (w2: Float32Array) => number,
): ReweightInfo {
  const count = returnedEntries(problem.N, problem.M, problem.fitBias);
  let normY = 0;
  for (let i = 0; i < problem.output.length; i++) normY += problem.output[i] * problem.output[i];
  normY = Math.sqrt(normY);
  return {
    returned,
    rounds: rounds.map((r) => ({
      status: r.status,
      iterations: r.ctl.iterations,
      nnz: nonzeros(r.w2),
      l1Norm: weightedL1(r.w2, undefined, count),
      objective: weightedL1(r.w2, r.c, count),
      lowerBound: r.lowerBound,
      relativeOutputError: normY > 0 ? r.ctl.measure.outputError / normY : 0,
      delta: r.deltaAbsolute,
    })),
  };
}

/** One round as it ended (round 0: the plain ℓ1 solve). */
export interface RoundOutcome {
  ctl: ControllerResult;
  status: SolveStatus;
  /** The engine's W2 ([N+1, M], bias row b/u) and duals. */
  w2: Float32Array;
  dual: { u1: Float32Array; u2: Float32Array };
  /** The weights of this round's objective (undefined: plain ℓ1). */
  c: Float32Array | undefined;
  deltaAbsolute: number;
  lowerBound: number;
}

/** A round's weights meet the budget (the controller measured them). */
function meetsBudget(status: SolveStatus): boolean {
  return status === "solved" || status === "solved_inaccurate";
}

/**
 * Runs `rounds` reweighting rounds after `first` on the same engine (C̃⁻¹ is reused), each
 * warm-started from the last round's weights and duals. Stops early when a round does not meet
 * the budget, when there is nothing left to reweight, on `aborted()`, or when the rounds have
 * used up `timeLimitMs` (the iterations' limit holds for all rounds together: each round gets
 * what the earlier ones left). `solve` runs the controller from a warm start with a time
 * limit; `bound` is the round's certificate.
 */
export async function reweightRounds(
  engine: AdmmEngine, first: RoundOutcome, rounds: number, delta: number,
  solve: (warmWeights: Float32Array, warmDual: { rho: number; u1: Float32Array; u2: Float32Array }, timeLimitMs: number) => Promise<ControllerResult>,
  bound: () => number, aborted: () => boolean, timeLimitMs: number,
): Promise<RoundOutcome[]> {
  const out = [first];
  let last = first;
  let spent = first.ctl.solveMs;
  for (let r = 1; r <= rounds && meetsBudget(last.status) && !aborted() && spent < timeLimitMs; r++) {
    const weights = l1WeightsFrom(last.w2, delta);
    if (!weights) break;
    engine.setL1Weights!(weights.c);
    const ctl = await solve(last.w2, { rho: last.ctl.rho, ...last.dual }, timeLimitMs - spent);
    spent += ctl.solveMs;
    const round: RoundOutcome = {
      ctl, status: ctl.status, w2: engine.readW2(), dual: engine.readDual(), c: weights.c,
      deltaAbsolute: weights.deltaAbsolute, lowerBound: ctl.status === "numerical_error" ? NaN : bound(),
    };
    out.push(round);
    last = round;
  }
  return out;
}

/** The round returned: the sparsest that meets the budget (the later one on ties); round 0 otherwise. */
export function chooseRound(rounds: RoundOutcome[], nonzeros: (w2: Float32Array) => number): number {
  let best = 0;
  for (let r = 1; r < rounds.length; r++) {
    if (meetsBudget(rounds[r].status) && nonzeros(rounds[r].w2) <= nonzeros(rounds[best].w2)) best = r;
  }
  return best;
}
