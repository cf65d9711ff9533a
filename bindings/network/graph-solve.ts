// One prunable node of a graph solved by its layer solver: a Dense node by pruneLayer (over the
// last axis: every position of a [.., n] input is a row), a Conv2D node by pruneConvLayer, a
// DepthwiseConv2D node by pruneDepthwiseConvLayer, each on NHWC signals; in this thread
// (solveNode) or as the same job on a worker of the pool (solveNodeOnPool), with the same result.
// Conv-only and Dense-only layer options go to their own solver.
import { pruneDepthwiseConvLayer, type DepthwiseResult } from "../solver/prune-depthwise-layer.ts";
import { pruneConvLayer } from "../workers/conv-threads.ts";
import { pruneLayer } from "../workers/layer-threads.ts";
import type { LayerInfo, LayerResult, ProgressInfo, SolveStatus } from "../types.ts";
import type { Tensor } from "../conv-types.ts";
import type { LayerPool, PoolConvOptions, PoolLayerOptions } from "../workers/pool.ts";
import type { PrunableNode } from "./graph/types.ts";
import type { GraphLayerOptions } from "./graph-prune-types.ts";

export interface NodeSignals {
  /** The node's input, [samples, ...inShape]. */
  input: Float32Array;
  inShape: readonly number[];
  samples: number;
  /** The program's target, [samples, ...node.shape]. */
  target: Float32Array;
  /** V on Ω^c (cascade, ReLU program), [samples, ...node.shape]. */
  upperBound?: Float32Array;
}

export type Budget = { epsilonGain: number } | { epsilon: number };

export interface NodeSolve {
  status: SolveStatus;
  weights: Float32Array;
  bias: Float32Array;
  epsilon: number;
  /** ‖act(output) − target‖_F of the returned weights on the input solved with. */
  outputError: number;
  nnz: number;
  iterations: number;
  info?: LayerInfo;
  channels?: LayerInfo[];
}

export interface Hooks {
  signal?: AbortSignal;
  onProgress?: (p: ProgressInfo) => void;
}

/** A node's solve as data: the arguments of its layer solver, minus signal and onProgress. */
export type NodeJob =
  | { op: "dense"; input: { data: Float32Array; rows: number; cols: number }; output: { data: Float32Array; rows: number; cols: number }; options: PoolLayerOptions }
  | { op: "conv2d" | "depthwiseConv2d"; input: Tensor; output: Tensor; options: PoolConvOptions };

export function nodeJob(node: PrunableNode, s: NodeSignals, kind: "relu" | "linear", budget: Budget, layerOptions: GraphLayerOptions): NodeJob {
  const fitBias = node.bias !== null;
  if (node.op === "dense") {
    const { wUpdate: _w, ...dense } = layerOptions;
    const n = s.inShape[s.inShape.length - 1];
    const rows = s.input.length / n;
    const options: PoolLayerOptions = {
      ...dense, kind, fitBias, ...budget,
      ...(s.upperBound ? { upperBound: { data: s.upperBound, rows, cols: node.units } } : {}),
    };
    return { op: "dense", input: { data: s.input, rows, cols: n }, output: { data: s.target, rows, cols: node.units }, options };
  }
  const { sparseInput: _s, linearForm: _l, ...conv } = layerOptions;
  const outShape = [s.samples, ...node.shape];
  const options: PoolConvOptions = {
    ...conv, kind, fitBias, ...budget,
    kernelSize: node.kernelSize, strides: node.strides, padding: node.padding, dilation: node.dilation,
    ...(s.upperBound ? { upperBound: { data: s.upperBound, shape: outShape } } : {}),
  };
  return { op: node.op, input: { data: s.input, shape: [s.samples, ...s.inShape] }, output: { data: s.target, shape: outShape }, options };
}

export function fromLayer(r: LayerResult): NodeSolve {
  return { ...r, epsilon: r.info.epsilon, outputError: r.info.outputError, nnz: r.info.nnz, iterations: r.info.iterations };
}

export function fromDepthwise(r: DepthwiseResult): NodeSolve {
  const channels = r.channels.map((c) => c.info);
  return {
    status: r.status, weights: r.weights, bias: r.bias, nnz: r.nnz, outputError: r.outputError, channels,
    // Σ ε_c² = ε² by the solver's split; the iterations of every channel's solve.
    epsilon: Math.sqrt(channels.reduce((a, c) => a + c.epsilon ** 2, 0)),
    iterations: channels.reduce((a, c) => a + c.iterations, 0),
  };
}

/** Solves the node's job in this thread, a Dense or Conv2D node's iterations on `threads` threads. */
export async function solveNode(job: NodeJob, hooks: Hooks, threads: number | "auto" = 1): Promise<NodeSolve> {
  if (job.op === "dense") return fromLayer(await pruneLayer(job.input, job.output, { ...job.options, ...hooks, threads }));
  if (job.op === "conv2d") return fromLayer(await pruneConvLayer(job.input, job.output, { ...job.options, ...hooks, threads }));
  return fromDepthwise(await pruneDepthwiseConvLayer(job.input, job.output, { ...job.options, ...hooks }));
}

/** Solves the node's job on a pool worker; `detach` hands the job's arrays over (see LayerJob.detach). */
export async function solveNodeOnPool(pool: LayerPool, job: NodeJob, hooks: Hooks, detach: boolean): Promise<NodeSolve> {
  if (job.op === "dense") return fromLayer(await pool.solve({ input: job.input, output: job.output, options: job.options, detach }, hooks));
  const conv = { input: job.input, output: job.output, options: job.options, detach };
  if (job.op === "conv2d") return fromLayer(await pool.solveConv(conv, hooks));
  return fromDepthwise(await pool.solveDepthwise(conv, hooks));
}
