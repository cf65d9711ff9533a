// The format-neutral model graph: named nodes, one output tensor each (named as the node), with an
// op kind, typed attributes, their weights as Float32Array in TF.js layouts, and the per-sample
// NHWC shape of their output (batch dimension excluded). Readers (TF.js now, ONNX later) build it
// with buildGraph; the forward pass, BatchNorm folding and the writers work on it.

/** Activations a Dense/conv node or an activation node can apply. */
export type GraphActivation = "linear" | "relu" | "relu6" | "sigmoid" | "tanh" | "softmax";

export type Padding2D = "same" | "valid";

/** [height, width]. */
export type Pair = readonly [number, number];

/** Where a node came from, so that a writer can put its weights back under the original names. */
export interface NodeOrigin {
  /** The layer's class or operator in the file: "Conv2D", "Dense", ... */
  className: string;
  /** Role → the weight's name in the file: {kernel: "conv2d/kernel", bias: "conv2d/bias"}. */
  weightNames: Record<string, string>;
}

interface NodeBase {
  /** Unique; also the name of the node's output tensor. */
  name: string;
  /** Names of the nodes whose outputs it consumes, in argument order. */
  inputs: string[];
  /** Output shape per sample, NHWC, batch excluded (set by buildGraph). */
  shape: number[];
  origin?: NodeOrigin;
}

interface InputNode extends NodeBase { op: "input" }

/** y = act(x·kernel + bias) over the last axis; kernel [in, units]. */
export interface DenseNode extends NodeBase {
  op: "dense";
  units: number;
  activation: GraphActivation;
  kernel: Float32Array;
  /** [units], or null when the layer has no bias. */
  bias: Float32Array | null;
}

interface ConvAttributes {
  kernelSize: Pair;
  strides: Pair;
  padding: Padding2D;
  dilation: Pair;
  activation: GraphActivation;
  bias: Float32Array | null;
}

/** NHWC convolution; kernel [kh, kw, inC, filters]. */
export interface Conv2DNode extends NodeBase, ConvAttributes {
  op: "conv2d";
  filters: number;
  kernel: Float32Array;
}

/** Per-channel convolution; kernel [kh, kw, inC, multiplier]; output channel c·multiplier + m. */
export interface DepthwiseConv2DNode extends NodeBase, ConvAttributes {
  op: "depthwiseConv2d";
  depthMultiplier: number;
  kernel: Float32Array;
}

/** Inference BatchNorm over the last axis: (x − mean)/√(variance + ε)·gamma + beta. */
export interface BatchNormNode extends NodeBase {
  op: "batchNorm";
  /** The normalised axis per sample (negative counts from the end): must be the last. */
  axis: number;
  epsilon: number;
  /** Null when the layer does not scale (gamma = 1) or does not center (beta = 0). */
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
}

export interface Pool2DNode extends NodeBase {
  op: "maxPool2d" | "avgPool2d";
  poolSize: Pair;
  strides: Pair;
  /** "same": max ignores the padding; average divides by the window's cells inside the input. */
  padding: Padding2D;
}

export interface GlobalAvgPool2DNode extends NodeBase { op: "globalAvgPool2d"; keepDims: boolean }

/** Data unchanged, shape flattened (NHWC row-major order). */
interface FlattenNode extends NodeBase { op: "flatten" }

/** Data unchanged; at most one −1 in targetShape. */
interface ReshapeNode extends NodeBase { op: "reshape"; targetShape: number[] }

export interface ZeroPad2DNode extends NodeBase {
  op: "zeroPad2d";
  /** [top, bottom, left, right]. */
  pads: readonly [number, number, number, number];
}

/** Nearest-neighbour upsampling by integer factors. */
export interface UpSample2DNode extends NodeBase { op: "upSample2d"; size: Pair }

/** Passes its input on (Dropout at inference, or a BatchNorm folded into the layer before it). */
interface IdentityNode extends NodeBase {
  op: "identity";
  /** Set when this was a BatchNorm folded into its input node (see foldBatchNorms). */
  foldedBatchNorm?: { epsilon: number; into: string };
}

interface ActivationNode extends NodeBase {
  op: "activation";
  activation: GraphActivation;
  /** The per-sample axis a softmax runs over (negative from the end); only the last is computed. */
  axis?: number;
}

/** Elementwise sum of inputs of one shape. */
interface AddNode extends NodeBase { op: "add" }

/** Concatenation along a per-sample axis (batch excluded; negative counts from the end). */
export interface ConcatNode extends NodeBase { op: "concat"; axis: number }

export type GraphNode =
  | InputNode | DenseNode | Conv2DNode | DepthwiseConv2DNode | BatchNormNode | Pool2DNode | GlobalAvgPool2DNode
  | FlattenNode | ReshapeNode | ZeroPad2DNode | UpSample2DNode | IdentityNode | ActivationNode | AddNode | ConcatNode;

export type GraphOp = GraphNode["op"];

/** A node as a reader gives it to buildGraph: shapes are inferred, except an input node's. */
export type GraphNodeSpec = GraphNode extends infer N ? (N extends GraphNode ? Omit<N, "shape"> & { shape?: number[] } : never) : never;

export interface ModelGraph {
  /** Every node, in a topological order (inputs before their consumers; ties in the reader's order). */
  nodes: GraphNode[];
  /** Names of the input nodes, in the model's input order. */
  inputs: string[];
  /** Names of the nodes whose outputs are the model's outputs, in order. */
  outputs: string[];
}

/** The nodes whose weights Net-Trim prunes. */
export type PrunableNode = DenseNode | Conv2DNode | DepthwiseConv2DNode;

export function isPrunable(node: GraphNode): node is PrunableNode {
  return node.op === "dense" || node.op === "conv2d" || node.op === "depthwiseConv2d";
}
