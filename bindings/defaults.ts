// Every default of the layer solver, in one place. README "Options" documents each one.
import type { LayerKind } from "./types.ts";

export const DEFAULTS = {
  kind: "relu" as LayerKind,
  fitBias: true,
  epsilonGain: 0.05,
  activeThreshold: 0,
  maxIter: 2000,
  timeLimitMs: Infinity,
  absTol: 1e-6,
  relTol: 1e-3,
  dualRelTol: 1e-2,
  feasTol: 1e-3,
  rho: "auto" as number | "auto",
  adaptiveRho: true,
  alpha: 1.6,
  checkInterval: 10,
  sparseInput: "auto" as "auto" | boolean,
  linearForm: "auto" as "auto" | "samples" | "reduced",
  wUpdate: "auto" as "auto" | "factored" | "woodbury" | "cg",
  // One thread: a threaded solve starts workers (tens of ms) and wants the cores pruneNetwork's
  // pool, or the page, may be using; ask for more where one big layer is the whole job.
  threads: 1 as number | "auto",
  // Reweighted ℓ1 (options.reweight; off in the layer solvers, NETWORK_REWEIGHT in the network drivers): δ relative to the mean |w| of the nonzeros.
  reweightDelta: 0.1,
} as const;

/**
 * The network drivers' default reweighting (pruneNetwork, pruneGraph, planNetwork, planGraph:
 * `layerOptions.reweight` when not given; the CLI without `--reweight`): 3 rounds, δ = 0.1.
 * Measured on both MNIST MLPs at P = 8000 (README "Reweighted ℓ1"): at the same budget 3 rounds
 * keep 13–83% fewer weights than plain ℓ1 (more at larger budgets), with a logit error below
 * SparseGPT's at its counts in 26 of 26 rows (plain ℓ1: 11), at 2–8× the plain time in most rows
 * (14× at the tightest budget); rounds beyond 3 remove 1–3% more each.
 */
export const NETWORK_REWEIGHT = { rounds: 3, delta: 0.1 } as const;

/** The most reweighting rounds one solve may ask for. */
export const REWEIGHT_MAX_ROUNDS = 20;

/** Products skip zero inputs when at least this fraction of the input (bias column included) is zero. */
export const SPARSE_INPUT_MIN_ZERO_FRACTION = 0.5;

/**
 * linearForm "auto" solves a linear layer in the reduced form (on the QR factor of the design)
 * when it has at least REDUCED_FORM_MIN_SAMPLES_PER_ROW samples per row of the factor
 * (inputs + 1) and at most REDUCED_FORM_MAX_ROWS rows. Measured (bench:linear, P = 8000): with
 * 101 rows the whole solve is 1.6× faster; with 785 rows the f64 QR (unblocked, 7 s) costs more
 * than the ~20 iterations it makes cheaper (2× slower in all).
 */
export const REDUCED_FORM_MIN_SAMPLES_PER_ROW = 2;
export const REDUCED_FORM_MAX_ROWS = 256;

/**
 * The first ρ (rho "auto", no warm dual) puts the soft threshold 1/ρ at this multiple of the RMS
 * of the ridge least-squares weights. Measured on the suite of bench:iterations with the stop of
 * PRIMAL_STOP_FACTOR: 1 took MNIST layer 1 to 100 (P = 2000) and 90 (P = 8000) iterations, held
 * by the dual residual; 2 takes them to 70 and 80, every other case of the suite staying ≤ 60.
 */
export const FIRST_THRESHOLD_RMS_MULTIPLE = 2;
/** ρ is changed only when residual balancing asks for a factor beyond this (either way). */
export const RHO_UPDATE_MIN_FACTOR = 3;
/** ρ stays within these bounds (scaled units). */
export const RHO_MIN = 1e-6;
export const RHO_MAX = 1e6;
/**
 * The stop: the returned weights meet the user's budget (the output error after the activation,
 * measured on them), the dual residual is within its tolerance, and the primal residual within
 * this many times its own. The primal residual is the program's feasibility, which the budget
 * test checks directly and in the user's terms (SPEC §5, Prop. 1); requiring it to 1× held the
 * stop 40–50 iterations longer on the MNIST layers 2 at P = 8000 with the budget met all along.
 * It stays as a guard: 10× stopped a linear layer after 10 iterations 1% above the optimum.
 */
export const PRIMAL_STOP_FACTOR = 3;
/**
 * ρ changes at most once until the iterations have doubled since its last change (after the
 * first). Residual balancing with no such spacing changed ρ 31 times on the linear 15 × 30 LP
 * fixture at ε = 0 (relTol 1e-5) and took 15,880 iterations (49 changes and over 20,000 in the
 * float64 reference engine); with it, 4 changes and 5,180 (README, "The Woodbury weight update").
 * The suite of bench:iterations changes ρ at most once, so it is not touched.
 */
export const RHO_UPDATE_SPACING = 2;
/**
 * Where P < N̄, the stop also asks the returned weights' fit to reach this fraction of ε (the
 * ball is active at the optimum; controller.ts, usesBudget).
 */
export const BUDGET_USE_MIN_FRACTION = 0.99;
/** 'solved_inaccurate' means the tolerances were met when loosened by this factor. */
export const INACCURATE_FACTOR = 10;

/** The solver's scale c0 = C0_FACTOR·sqrt(max diag XXᵀ) (the authors' preprocessing). */
export const C0_FACTOR = 0.3;

/**
 * A run stopped by maxIter is called infeasible when the certified lower bound on the objective
 * of ANY weights meeting the budget exceeds this many times the ℓ1 norm of the ridge
 * least-squares weights: no weights of a size that reproduces the outputs can meet it.
 */
export const INFEASIBLE_FACTOR = 1e6;

/**
 * Upper bounds of the integer options, checked at the entrance. maxIter and checkInterval: the
 * kernels count iterations in 32-bit signed integers (2³¹ iterations would wrap to none).
 * convWindow (a conv layer's kernelSize, strides, dilation): the kernels compute pixel positions
 * in 32-bit integers (a dilation of 2³² + 1 ran as 1); up to 2¹⁵ − 1 each, the dilated span stays
 * below 2³⁰. threads and workers: more than any machine they would pay on. cancelGraceMs:
 * timers fire at once beyond 2³¹ − 1 ms.
 */
export const LIMITS = {
  maxIter: 2 ** 31 - 1,
  checkInterval: 2 ** 31 - 1,
  convWindow: 2 ** 15 - 1,
  threads: 256,
  workers: 256,
  cancelGraceMs: 2 ** 31 - 1,
} as const;
