// The network drivers' options and results.
import type { LayerInfo, LayerOptions, ProgressInfo, SolveStatus } from "../types.ts";
import type { DenseNetwork } from "./network.ts";

export type PruneMode = "parallel" | "cascade";

/**
 * Per-layer solver settings the network driver passes through (the budget is the driver's;
 * threads too: its parallel mode runs whole layers on the cores instead).
 */
export type NetworkLayerOptions = Omit<
  LayerOptions,
  "kind" | "epsilon" | "epsilonGain" | "upperBound" | "fitBias" | "signal" | "onProgress" | "warmStart" | "threads"
>;

export interface NetworkOptions {
  /** Default "parallel". */
  mode?: PruneMode;
  /** ε_ℓ = gain·‖Y^(ℓ)‖_F (parallel: every layer; cascade: the first layer). One number or one per layer. Default 0.05. */
  epsilonGain?: number | number[];
  /** Instead of a budget: the fraction of each layer's parameters (bias included) to keep, e.g. 0.1. One number or one per layer. */
  density?: number | number[];
  /** Relative tolerance on the reached density. Default 0.05. */
  densityTolerance?: number;
  /** Cascade budget inflation γ ≥ 1. Default 1.1. */
  gamma?: number;
  /** Cascade last-layer factor κ ∈ (0, 1] on ε_L. Default 1. */
  kappa?: number;
  /** Passed to every layer solve (maxIter, tolerances, ...). `reweight` defaults to NETWORK_REWEIGHT (3 rounds); `{rounds: 0}`: plain ℓ1. */
  layerOptions?: NetworkLayerOptions;
  /** Parallel mode: workers to run layers at once (0: in this thread, one after another). Default: min(hardware threads, layers). */
  workers?: number;
  /**
   * Threads for each layer solved in this thread (cascade mode, or parallel with workers: 0): its
   * iterations split over them, with the same results ("auto": the hardware threads). The density
   * search's and the per-layer keep allocation's sessions, and pool jobs, run on one (each layer's
   * info.threadsReason says so). Default 1.
   */
  threads?: number | "auto";
  /**
   * After the layers are pruned (either mode): refit each layer's kept weights by least squares,
   * layer by layer, toward the original network's signals; the zeros stay (see refit.ts).
   * The Theorem 1/2 guarantee is then for the weights before the refit. Default false.
   */
  refit?: boolean;
  /**
   * A whole-network target instead of a budget: the fraction of all the network's weights and
   * biases to keep, e.g. 0.1, split across layers as `keepAllocation` says; within
   * `densityTolerance` of the target (relative) when reached. Not with epsilonGain or density.
   */
  keep?: number;
  /**
   * How `keep` is split across layers. "per-layer" (parallel mode's default): each layer solved
   * along a ladder of gains, then the layers that cost the least logit error per weight removed
   * give up weights first (keep-allocation.ts). "common-gain" (cascade mode's default and only
   * choice): one gain for every layer, bisected (keep-search.ts).
   */
  keepAllocation?: "per-layer" | "common-gain";
  onProgress?: (progress: NetworkProgress) => void;
  signal?: AbortSignal;
}

export interface NetworkProgress extends Partial<ProgressInfo> {
  layer: number;
  layers: number;
  name: string;
  phase: "solving" | "done" | "refitting";
}

export interface LayerReport {
  name: string;
  kind: "relu" | "linear";
  status: SolveStatus;
  /** Nonzero parameters (kernel + bias) before, and in the returned weights. */
  nnzBefore: number;
  nnzAfter: number;
  parameters: number;
  keptFraction: number;
  epsilon: number;
  /** ‖act(Ŵᵀ X_in + b̂) − Y^(ℓ)‖_F / ‖Y^(ℓ)‖_F on the input this layer was solved with. */
  relativeError: number;
  iterations: number;
  timeMs: number;
  /** The solve's own report (on the weights before any refit). */
  info: LayerInfo;
  /** Present when options.refit: the refit of this layer. */
  refit?: LayerRefit;
}

/**
 * One layer's refit, measured on the refit's input (the refitted network's signal before the
 * layer) against the original network's signal after it: ‖act(X̂Ŵ + b̂) − Y^(ℓ)‖_F / ‖Y^(ℓ)‖_F.
 */
export interface LayerRefit {
  relativeError: number;
  /** The same for the layer's weights before the refit, on the same input. */
  unrefittedRelativeError: number;
  timeMs: number;
}

/** The returned (refitted) network against the original on the calibration data. */
export interface RefitSummary {
  /** Per layer: ‖Ŷ^(ℓ) − Y^(ℓ)‖_F of the returned network. */
  perLayer: number[];
  /** ‖Ŷ^(L) − Y^(L)‖_F (the logits) and that over ‖Y^(L)‖_F. */
  measuredError: number;
  relativeError: number;
  timeMs: number;
}


/** Where the layers were solved. */
export interface NetworkExecution {
  /** Pool workers used (0: in this thread). */
  workers: number;
  inThread: boolean;
  /** Why in this thread: "workers: 0", cascade mode, the density search, one layer, or a runtime without Workers (workerd, Vercel Edge). */
  reason?: string;
}

export interface NetworkResult {
  network: DenseNetwork;
  /** "solved" when every layer is; else the first layer status that is not. */
  status: SolveStatus;
  layers: LayerReport[];
  /** With refit: for the network BEFORE the refit (guarantee.appliesToReturnedWeights is false). */
  guarantee: Guarantee;
  /** Present when the refit ran: end-to-end errors of the returned network (no bound applies to it). */
  refit?: RefitSummary;
  execution: NetworkExecution;
  timeMs: number;
  /** Present with options.keep: how the target was met (the gains and the search's record). */
  keep?: KeepSearch;
}

/** How options.keep was met: by one gain for every layer, or by a per-layer allocation. */
export type KeepSearch = CommonGainKeep | PerLayerKeep;

/** keepAllocation "common-gain": the target, the share of all parameters kept, the gain, the probes in order. */
export interface CommonGainKeep {
  allocation: "common-gain";
  target: number;
  keptFraction: number;
  gain: number;
  probes: { gain: number; keptFraction: number }[];
}

/**
 * keepAllocation "per-layer": the gain each layer got, every layer's ladder (gain and nonzeros of
 * each plain ℓ1 rung solved), the greedy walk's moves with the network's kept share and relative
 * logit error (on the calibration samples, plain ℓ1 weights) after each, and the solves made
 * after the walk with the run's own layer options (reweighted when asked) at the gains the
 * search tried.
 */
export interface PerLayerKeep {
  allocation: "per-layer";
  target: number;
  keptFraction: number;
  gains: number[];
  ladders: { gain: number; nnz: number }[][];
  steps: { layer: number; gain: number; keptFraction: number; relativeLogitError: number }[];
  probes: { layer: number; gain: number; nnz: number }[];
}

/** What every guarantee reports: the measured end-to-end error against its bound. */
export interface GuaranteeSummary {
  /** ‖Ŷ − Y‖_F at the output(s) on the calibration data, over ‖Y‖_F, and the bound. */
  measuredError: number;
  relativeError: number;
  bound: number;
  /** Every layer's (node's) measured error within its bound (up to the rounding of f32 signals: ×(1 + 1e-5) + 1e-6). */
  holds: boolean;
  /** False after a refit: the bound and the measured errors are those of the weights before it. */
  appliesToReturnedWeights: boolean;
  /** Every ‖Ŵ‖₂ in the bound proved from above (certified-norm.ts; conv bounds always); false: a Dense kernel too large for the check, its norm power iteration ×(1 + 1e-6). */
  normsProved: boolean;
}

/** The guarantee of SPEC §5: measured end-to-end error against the Theorem 1/2 bound (see guarantee.ts). */
export interface Guarantee extends GuaranteeSummary {
  theorem: "Theorem 1 (parallel)" | "Theorem 2 (cascade)";
  /** Per layer: measured ‖Ŷ^(ℓ) − Y^(ℓ)‖_F of the pruned network on the calibration data, and the bound. */
  perLayer: { measured: number; bound: number }[];
}
