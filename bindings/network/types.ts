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
  /** Passed to every layer solve (maxIter, tolerances, ...). */
  layerOptions?: NetworkLayerOptions;
  /** Parallel mode: workers to run layers at once (0: in this thread, one after another). Default: min(hardware threads, layers). */
  workers?: number;
  onProgress?: (progress: NetworkProgress) => void;
  signal?: AbortSignal;
}

export interface NetworkProgress extends Partial<ProgressInfo> {
  layer: number;
  layers: number;
  name: string;
  phase: "solving" | "done";
}

export interface LayerReport {
  name: string;
  kind: "relu" | "linear";
  status: SolveStatus;
  /** Nonzero parameters (kernel + bias) before and after. */
  nnzBefore: number;
  nnzAfter: number;
  parameters: number;
  keptFraction: number;
  epsilon: number;
  /** ‖act(Ŵᵀ X_in + b̂) − Y^(ℓ)‖_F / ‖Y^(ℓ)‖_F on the input this layer was solved with. */
  relativeError: number;
  iterations: number;
  timeMs: number;
  info: LayerInfo;
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
  guarantee: Guarantee;
  execution: NetworkExecution;
  timeMs: number;
}

/** The guarantee of SPEC §5: measured end-to-end error against the Theorem 1/2 bound (see guarantee.ts). */
export interface Guarantee {
  theorem: "Theorem 1 (parallel)" | "Theorem 2 (cascade)";
  /** Per layer: measured ‖Ŷ^(ℓ) − Y^(ℓ)‖_F of the pruned network on the calibration data, and the bound. */
  perLayer: { measured: number; bound: number }[];
  measuredError: number;
  relativeError: number;
  bound: number;
  holds: boolean;
}
