// One prunable node of a graph solved by its layer solver: a Dense node by pruneLayer (over the
// last axis: every position of a [.., n] input is a row), a Conv2D node by pruneConvLayer, a
// DepthwiseConv2D node by pruneDepthwiseConvLayer, each on NHWC signals. Conv-only and Dense-only
// layer options go to their own solver.
import { pruneConvLayer } from "../solver/prune-conv-layer.ts";
import { pruneDepthwiseConvLayer } from "../solver/prune-depthwise-layer.ts";
import { pruneLayer } from "../solver/prune-layer.ts";
import type { LayerInfo, LayerOptions, ProgressInfo, SolveStatus } from "../types.ts";
import type { ConvLayerOptions } from "../conv-types.ts";
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

interface NodeSolve {
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

interface Hooks {
  signal?: AbortSignal;
  onProgress?: (p: ProgressInfo) => void;
}

export async function solveNode(
  node: PrunableNode, s: NodeSignals, kind: "relu" | "linear", budget: Budget, layerOptions: GraphLayerOptions, hooks: Hooks,
): Promise<NodeSolve> {
  const fitBias = node.bias !== null;
  if (node.op === "dense") {
    const { wUpdate: _w, ...dense } = layerOptions;
    const n = s.inShape[s.inShape.length - 1];
    const rows = s.input.length / n;
    const options: LayerOptions = {
      ...dense, kind, fitBias, ...budget,
      ...(s.upperBound ? { upperBound: { data: s.upperBound, rows, cols: node.units } } : {}),
      ...hooks,
    };
    const r = await pruneLayer({ data: s.input, rows, cols: n }, { data: s.target, rows, cols: node.units }, options);
    return { ...r, epsilon: r.info.epsilon, outputError: r.info.outputError, nnz: r.info.nnz, iterations: r.info.iterations };
  }
  const { sparseInput: _s, linearForm: _l, ...conv } = layerOptions;
  const outShape = [s.samples, ...node.shape];
  const options: ConvLayerOptions = {
    ...conv, kind, fitBias, ...budget,
    kernelSize: node.kernelSize, strides: node.strides, padding: node.padding, dilation: node.dilation,
    ...(s.upperBound ? { upperBound: { data: s.upperBound, shape: outShape } } : {}),
    ...hooks,
  };
  const x = { data: s.input, shape: [s.samples, ...s.inShape] };
  const y = { data: s.target, shape: outShape };
  if (node.op === "conv2d") {
    const r = await pruneConvLayer(x, y, options);
    return { ...r, epsilon: r.info.epsilon, outputError: r.info.outputError, nnz: r.info.nnz, iterations: r.info.iterations };
  }
  const r = await pruneDepthwiseConvLayer(x, y, options);
  const channels = r.channels.map((c) => c.info);
  return {
    status: r.status, weights: r.weights, bias: r.bias, nnz: r.nnz, outputError: r.outputError, channels,
    // Σ ε_c² = ε² by the solver's split; the iterations of every channel's solve.
    epsilon: Math.sqrt(channels.reduce((a, c) => a + c.epsilon ** 2, 0)),
    iterations: channels.reduce((a, c) => a + c.iterations, 0),
  };
}
