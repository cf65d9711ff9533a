// Public types of the layer solver.

/** A dense row-major matrix: `data[r * cols + c]`. Samples are rows. */
export interface Matrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/** What the solver accepts as a matrix: a {data, rows, cols} object or an array of rows. */
export type MatrixInput = Matrix | ArrayLike<number>[];

export type LayerKind = "relu" | "linear";

export type SolveStatus =
  | "solved"
  | "solved_inaccurate"
  | "max_iter_reached"
  | "time_limit_reached"
  | "aborted"
  | "infeasible"
  | "numerical_error";

/** A previous solution to start from (e.g. along an epsilon sweep on the same data). */
export interface WarmStart {
  /** [N, M] weights (TF.js Dense layout). */
  weights: Float32Array | Float64Array;
  /** [M] bias. */
  bias: Float32Array | Float64Array;
  /** The dual state returned in `LayerResult.dual` by the solve being continued, if any. */
  dual?: DualState;
}

/** The ADMM's scaled dual variables, to continue a solve (opaque to users). */
export interface DualState {
  rho: number;
  /** [P, M] */
  u1: Float32Array;
  /** [N + 1, M] */
  u2: Float32Array;
}

export interface LayerOptions {
  /** 'relu' (hidden layer, the constrained form) or 'linear' (last layer, sparse least squares). Default 'relu'. */
  kind?: LayerKind;
  /** Absolute error budget ε. Give this or `epsilonGain`, not both. */
  epsilon?: number;
  /** Relative budget: ε = epsilonGain·‖Y‖_F. Default 0.05 when `epsilon` is not given. */
  epsilonGain?: number;
  /** Whether the layer has a bias to fit (false: the returned bias is all zeros, for Dense layers with use_bias false). Default true. */
  fitBias?: boolean;
  /** Upper bound V ([P, M], same layout as output) on the pre-activation where output ≤ activeThreshold. Cascade mode uses it; default 0. relu only. */
  upperBound?: MatrixInput;
  /** Ω = { output > activeThreshold }. Default 0. */
  activeThreshold?: number;
  /** Iteration cap. Default 2000. */
  maxIter?: number;
  /** Wall-clock limit for the iterations, in ms. Default Infinity. */
  timeLimitMs?: number;
  /** Cancels the solve; the result then has status 'aborted'. */
  signal?: AbortSignal;
  /** Called every `checkInterval` iterations with the current info. */
  onProgress?: (progress: ProgressInfo) => void;
  /** Start from a previous solution. */
  warmStart?: WarmStart;
  /** Absolute tolerance of the residual tests (per entry, scaled units). Default 1e-6. */
  absTol?: number;
  /** Relative tolerance of the primal residual test. Default 1e-3. */
  relTol?: number;
  /** Relative tolerance of the dual residual test. Default 1e-2. */
  dualRelTol?: number;
  /** Relative slack on the budget for 'solved': fit ≤ ε·(1 + feasTol), Ω^c leakage ≤ feasTol·max(Y). Default 1e-3. */
  feasTol?: number;
  /** Initial ADMM penalty ρ, or 'auto' (default). */
  rho?: number | "auto";
  /** Adapt ρ during the solve by normalised residual balancing. Default true. */
  adaptiveRho?: boolean;
  /** Over-relaxation α in [1, 2). Default 1.6. */
  alpha?: number;
  /** Iterations between residual checks, progress calls and signal checks. Default 10. */
  checkInterval?: number;
  /** 'auto' (default) uses sparse products when the input is mostly zeros. */
  sparseInput?: "auto" | boolean;
  /**
   * Linear layers only. "samples": the program on the P samples; "reduced": the same program on
   * the QR factor of [input | 1] (n = inputs + 1 rows), whose iterations cost O(n²·outputs)
   * whatever P is, and whose least-squares floor certifies budgets that cannot be met; "auto"
   * (default): reduced when P ≥ 2·n and n ≤ 256. A warm-start dual belongs to the form that
   * produced it.
   */
  linearForm?: "auto" | "samples" | "reduced";
  /**
   * How each iteration's weight update is solved: "factored" (C̃ = XXᵀ + I factored once at
   * setup: fast iterations, (N + 1)² × 28 bytes), "woodbury" (the same update through
   * (I + XᵀX)⁻¹, a P × P matrix: P² × 28 bytes, for fewer samples P than inputs + 1), "cg"
   * (conjugate gradient on the products each iteration, warm-started: no square matrix, slower
   * iterations), or "auto" (default): woodbury when P ≤ (inputs + 1)/2, else factored, when
   * that plan fits in memory; then the other square form while P < inputs + 1; else CG. Linear
   * layers in the reduced form ignore it.
   */
  wUpdate?: "auto" | "factored" | "woodbury" | "cg";
  /**
   * Threads for the iterations of this one layer (pruneLayer only): 1 (default), n, or 'auto'
   * (the runtime's hardware threads). More than 1 needs SharedArrayBuffer (pages: COOP/COEP
   * headers); where it is missing one thread runs and info.threadsReason says why. Same bits
   * for any count.
   */
  threads?: number | "auto";
  /**
   * Iteratively reweighted ℓ1: after the plain solve, `rounds` more solves of the same program
   * with the objective Σ c|w|, c = κ/(|w| + δ) from the previous round's weights (warm-started
   * from its weights and duals); δ = `delta` × the mean |w| of the previous round's nonzeros
   * (default DEFAULTS.reweightDelta). Same budget, fewer weights. Dense and conv layers alike
   * (pruneConvLayer, depthwise layers per channel). info.reweight reports every round.
   */
  reweight?: ReweightOptions;
}

export interface ReweightOptions {
  /** Reweighting rounds after the plain ℓ1 solve: an integer 0–20 (0: none). */
  rounds: number;
  /** δ relative to the mean |w| of the previous round's nonzeros: a number > 0. */
  delta?: number;
}

/** One solve of a reweighted run (round 0: the plain ℓ1 program). */
export interface ReweightRound {
  status: SolveStatus;
  iterations: number;
  /** Nonzeros of this round's weights (bias included). */
  nnz: number;
  /** ‖W‖₁ + ‖b‖₁/u and this round's own objective Σ c|W̄| (equal in round 0). */
  l1Norm: number;
  objective: number;
  /** Certified lower bound on this round's program (its weights c). */
  lowerBound: number;
  /** ‖act(ŴᵀX + b) − Y‖_F / ‖Y‖_F of this round's weights. */
  relativeOutputError: number;
  /** The absolute δ this round's weights c used (0 in round 0). */
  delta: number;
}

export interface ReweightInfo {
  rounds: ReweightRound[];
  /** The round whose weights are returned: the sparsest that met the budget. */
  returned: number;
}

export interface ProgressInfo {
  iteration: number;
  rho: number;
  primalResidual: number;
  dualResidual: number;
  primalTolerance: number;
  dualTolerance: number;
  elapsedMs: number;
}

export interface LayerInfo {
  /** ADMM iterations run. */
  iterations: number;
  /** Final residuals and their tolerances (in the solver's scaled units: data divided by c0). */
  primalResidual: number;
  dualResidual: number;
  primalTolerance: number;
  dualTolerance: number;
  /** The scale c0 the data was divided by inside the solver. */
  scale: number;
  /** Final ρ, the initial one and how many times it was changed. */
  rho: number;
  rhoInitial: number;
  rhoUpdates: number;
  /** ε used (absolute, original units). */
  epsilon: number;
  /**
   * The objective of the returned weights: ‖Ŵ‖₁ + ‖b̂‖₁ / biasUnit (the bias is pruned like any
   * weight, in the units of the inputs).
   */
  l1Norm: number;
  /** The value of the bias column: the largest RMS input feature (1 when every input is 0). */
  biasUnit: number;
  /** Certified lower bound on the optimal objective (weak duality, SPEC §8) and the gap l1Norm − bound. */
  lowerBound: number;
  optimalityGap: number;
  relativeGap: number;
  /** Nonzeros of the returned weights (bias included) and per neuron. */
  nnz: number;
  nnzWeights: number;
  nnzBias: number;
  nnzPerNeuron: Int32Array;
  /** ‖act(ŴᵀX + b) − Y‖_F measured on the returned weights, and relative to ‖Y‖_F. */
  outputError: number;
  relativeOutputError: number;
  /** ‖(ŴᵀX + b − Y)_Ω‖_F, the constrained quantity (all entries for 'linear'). */
  fitError: number;
  /** max over Ω^c of (ŴᵀX + b − V), clipped at 0: how far the bound is exceeded (0 for 'linear'). */
  leakage: number;
  /** Timings in ms. */
  setupMs: number;
  solveMs: number;
  totalMs: number;
  /** Whether the SIMD build ran (false: scalar build, or the pure-TS reference). */
  simd: boolean;
  /** Threads the iterations ran on (the threaded build when more than 1). */
  threads: number;
  /** Why fewer threads ran than options.threads asked for (no SharedArrayBuffer, a page not cross-origin isolated, …). */
  threadsReason?: string;
  /** Whether the products skipped zero inputs. */
  sparseInput: boolean;
  /** "reduced" when a linear layer was solved on the QR factor of its design (see LayerOptions.linearForm). */
  linearForm: "samples" | "reduced";
  /** How the weight update was solved (see LayerOptions.wUpdate). */
  wUpdate: "factored" | "woodbury" | "cg";
  /** Fraction of zero entries in the input. */
  inputZeroFraction: number;
  /**
   * With options.reweight: every round, and which one is returned. lowerBound, optimalityGap and
   * relativeGap then certify the returned round's weighted program (objective Σ c|W̄| =
   * rounds[returned].objective), not the plain ‖W‖₁ (l1Norm); iterations and solveMs add up all rounds.
   */
  reweight?: ReweightInfo;
}

export interface LayerResult {
  status: SolveStatus;
  /** [N, M] row-major (TF.js Dense kernel layout), exactly sparse. */
  weights: Float32Array;
  /** [M]. */
  bias: Float32Array;
  info: LayerInfo;
  /** Dual state to continue from (warm start). */
  dual: DualState;
}
