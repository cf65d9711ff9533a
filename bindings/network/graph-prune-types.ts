// Options and results of pruneGraph, the Net-Trim drivers on a model graph.
import type { LayerInfo, SolveStatus } from "../types.ts";
import type { FoldedBatchNorm } from "./graph/fold-batchnorm.ts";
import type { GraphOp, ModelGraph, PrunableNode } from "./graph/types.ts";
import type { GuaranteeSummary, KeepSearch, LayerRefit, NetworkExecution, NetworkLayerOptions, NetworkProgress, PruneMode } from "./types.ts";

/**
 * Passed to every layer solve. Dense-only settings (sparseInput, linearForm) reach the Dense
 * nodes, the conv-only wUpdate reaches the conv nodes; the budget, V and bias are the driver's.
 */
export type GraphLayerOptions = NetworkLayerOptions & { wUpdate?: "auto" | "factored" | "cg" };

export interface GraphPruneOptions {
  /** Default "parallel". */
  mode?: PruneMode;
  /**
   * ε = gain·‖Y‖_F of each node's target (parallel: every node; cascade: nodes whose input no pruned
   * node changes). One number, or one per prunable node by name (nodes not named get 0.05).
   */
  epsilonGain?: number | Record<string, number>;
  /**
   * Instead of a budget: the fraction of each pruned node's parameters (bias included) to keep,
   * e.g. 0.1; one number, or one per pruned node by name (every pruned node named). Each node's ε
   * is searched as pruneNetwork's density search does (graph-density.ts: Dense and Conv2D nodes on
   * a session, warm-started; a DepthwiseConv2D node over its whole ε, each probe solved cold), above
   * the cascade floor ‖(W̄ ⊛ X̂ − Y)_Ω‖ in cascade mode. In this thread. Not with epsilonGain or keep.
   */
  density?: number | Record<string, number>;
  /** Relative tolerance on the reached density and keep. Default 0.05. */
  densityTolerance?: number;
  /**
   * Instead of a budget: the fraction of the pruned nodes' parameters (all Dense, Conv2D and
   * DepthwiseConv2D nodes, or those `layers` names; biases included) to keep, e.g. 0.1. Within
   * densityTolerance of the target (relative) when reached. Not with epsilonGain or density.
   */
  keep?: number;
  /**
   * How keep is reached: "per-layer" (parallel mode's default; pruneNetwork's allocation, graph-keep.ts:
   * each node's ladder of gains, a greedy walk on the measured output error, in this thread) or
   * "common-gain" (cascade's only one: one error gain for every node, bisected, each probe a whole run).
   */
  keepAllocation?: "per-layer" | "common-gain";
  /** Cascade budget inflation γ ≥ 1. Default 1.1. */
  gamma?: number;
  /** Cascade factor κ ∈ (0, 1] on the budget of the final prunable nodes (no prunable node after them). Default 1. */
  kappa?: number;
  /** Passed to every node's solve. `reweight` defaults to NETWORK_REWEIGHT (3 rounds), as pruneNetwork's; `{rounds: 0}`: plain ℓ1. */
  layerOptions?: GraphLayerOptions;
  /**
   * Parallel mode: pool workers solving nodes at once (0: in this thread, one after another; the
   * same results either way). Default: min(hardware threads, pruned nodes). Cascade runs in this thread.
   */
  workers?: number;
  /**
   * Threads for each node solved in this thread (cascade mode, or parallel with workers: 0): the
   * iterations of a Conv2D or Dense node split over them, with the same results ("auto": the
   * hardware threads; depthwise channels and pool jobs run on one). Default 1.
   */
  threads?: number | "auto";
  /** Names of the prunable nodes to prune. Default: every Dense, Conv2D and DepthwiseConv2D node. */
  layers?: string[];
  /**
   * After the nodes are pruned (either mode): refit the kept weights of every pruned Dense, Conv2D
   * and DepthwiseConv2D node by least squares, node after node, toward the original graph's signals; the zeros
   * stay (graph-refit.ts). Each node's budget ε and solve report stay those of the weights before
   * the refit; nnzAfter, keptFraction and outputError are measured on the returned weights. Default false.
   */
  refit?: boolean;
  /** `layer` counts the pruned nodes in topological order; `name` is the node. */
  onProgress?: (progress: NetworkProgress) => void;
  signal?: AbortSignal;
}

/** Which program a node got, and why. */
export interface NodeProgram {
  program: "relu" | "linear";
  /** e.g. `activation relu`, `followed by ReLU node "r1"`, `activation relu6: linear on the pre-activation output`. */
  reason: string;
  /** The ReLU's node whose output is the target (the node itself when its activation is relu). */
  reluAt?: string;
}

export interface GraphLayerReport {
  name: string;
  op: PrunableNode["op"];
  program: "relu" | "linear";
  programReason: string;
  status: SolveStatus;
  /** Nonzero parameters (kernel + bias) before and after. */
  nnzBefore: number;
  nnzAfter: number;
  parameters: number;
  keptFraction: number;
  /** The layer's budget ε (absolute). */
  epsilon: number;
  /** ‖act(Ŵ ⊛ X_in + b̂) − Y‖_F / ‖Y‖_F on the input the node was solved with (act = relu or identity). */
  relativeError: number;
  /** ADMM iterations (depthwise: summed over its channels). */
  iterations: number;
  timeMs: number;
  /** The solve's info (Dense and Conv2D nodes). */
  info?: LayerInfo;
  /** Each channel's info (DepthwiseConv2D nodes: one problem per input channel). */
  channels?: LayerInfo[];
  /** Present when options.refit refitted this node (every pruned node). */
  refit?: LayerRefit;
}

export interface GraphOutputError {
  name: string;
  /** ‖Ŷ − Y‖_F of this graph output, pruned graph against the original, on the calibration samples. */
  measured: number;
  relative: number;
}

export interface GraphResult {
  /** A new graph (BatchNorms folded, pruned weights); the original graph when the run was aborted. */
  graph: ModelGraph;
  /** "solved" when every pruned node is; else the first node status that is not. */
  status: SolveStatus;
  layers: GraphLayerReport[];
  /** BatchNorms folded into the node before them before pruning (see foldBatchNorms). */
  foldedBatchNorms: FoldedBatchNorm[];
  /** Measured on the calibration samples, the returned graph against the original (unfolded) one. */
  outputError: { measured: number; relative: number; perOutput: GraphOutputError[] };
  execution: NetworkExecution;
  /** Present with options.keep: the target, the share kept, and the gain(s) and the search's record (see KeepSearch). */
  keep?: KeepSearch;
  /** Present when options.refit ran: its time (outputError above is the refitted graph's). */
  refit?: { timeMs: number };
  /**
   * The measured end-to-end error against the bound propagated through the graph (graph-guarantee.ts):
   * Theorem 1 in parallel mode, the nodes' measured errors in cascade mode. With refit, for the graph
   * BEFORE the refit. Absent when `guaranteeAbsent` says why (an aborted run, an op without a Lipschitz constant).
   */
  guarantee?: GraphGuarantee;
  guaranteeAbsent?: string;
  timeMs: number;
}

/** SPEC §5's guarantee on a graph: per node, the measured ‖ŝ_n − s_n‖_F and its bound (see graph-guarantee.ts). */
export interface GraphGuarantee extends GuaranteeSummary {
  /** Parallel: Theorem 1 propagated through the graph; cascade: each pruned node's measured error, propagated through the other ops only (graph-guarantee.ts). */
  theorem: "Theorem 1 (parallel), on the graph" | "cascade: measured node errors, on the graph";
  /** Every node but the inputs, in topological order: measured on the calibration samples against the original graph (BatchNorms folded), and the bound. */
  perNode: { name: string; op: GraphOp; measured: number; bound: number }[];
}
