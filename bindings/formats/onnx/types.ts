// What parseOnnxModel returns besides the graph: the source needed to write the model back (its
// original bytes, where every graph weight came from and how its layout was converted), and the
// layouts of the model's inputs and outputs (the graph is NHWC, ONNX images are NCHW).

/**
 * How a tensor's values are ordered in the graph relative to ONNX:
 * - "plain": the same order (vectors, [N, features], sequences);
 * - "nchw": an ONNX [C, H, W] image held by the graph as [H, W, C];
 * - "chwFlat": an ONNX image flattened in C, H, W order ([C·H·W]) held as H, W, C (`chw` = [C, H, W]).
 */
export type ValueLayout =
  | { kind: "plain" }
  | { kind: "nchw" }
  | { kind: "chwFlat"; chw: readonly [number, number, number] };

/** A model input or output: its ONNX name, its per-sample ONNX shape and how the graph orders it. */
export interface OnnxValueInfo {
  /** The ONNX tensor name. */
  name: string;
  /** The graph node holding it. */
  node: string;
  /** Per-sample shape in ONNX order (batch excluded). */
  shape: number[];
  layout: ValueLayout;
}

/** Where a constant tensor lives in the model. */
export type TensorSlot =
  | { kind: "initializer"; index: number }
  | { kind: "sparse"; index: number }
  | { kind: "constant"; node: number };

/**
 * How a graph weight maps to its ONNX tensor:
 * - "vector": the same values ([C] biases, BatchNorm statistics); a broadcast Gemm C is written [units];
 * - "denseRows": kernel [in, units] = the tensor [in, units] (MatMul B, Gemm B without transB);
 * - "denseCols": kernel [in, units] = the transposed tensor [units, in] (Gemm B with transB = 1);
 * - "conv": kernel [kh, kw, inC, outC] = the tensor [outC, inC, kh, kw];
 * - "depthwise": kernel [kh, kw, C, mult] = the tensor [C·mult, 1, kh, kw].
 * `rowOrder[i]`, when set, is the graph row of ONNX input row i (a Dense after an NCHW flatten).
 * `scale` multiplies the tensor's values into the graph's (Gemm alpha or beta ≠ 1).
 */
export interface WeightBinding {
  tensor: string;
  slot: TensorSlot;
  /** The graph node and field holding the weight. */
  node: string;
  field: "kernel" | "bias" | "gamma" | "beta" | "mean" | "variance";
  layout: "vector" | "denseRows" | "denseCols" | "conv" | "depthwise";
  /** The tensor's ONNX dims. */
  dims: number[];
  /** TensorProto data type (FLOAT or FLOAT16; written back in the same type). */
  dataType: number;
  rowOrder?: Int32Array;
  /** Index of the ONNX node whose alpha/beta attribute the writer sets to 1 (scale ≠ 1). */
  scaledBy?: { node: number; attribute: "alpha" | "beta"; scale: number };
}

export interface OnnxSource {
  /** The model file as read (the writer decodes it again: a deep copy that keeps unknown fields). */
  bytes: Uint8Array;
  weights: WeightBinding[];
  /** External data loaded for initializers, by tensor name (written back inline). */
  externalData: Map<string, Uint8Array>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The default-domain opset the model imports. */
  opset: number;
}

export interface OnnxReadOptions {
  /**
   * Returns the bytes of an external data file named in the model (`location`, relative to the
   * model file), or undefined when it is not available. Without it, a model with external data is
   * refused with an error naming the file.
   */
  loadExternal?: (location: string) => Uint8Array | undefined;
}

export interface OnnxWriteOptions {
  /**
   * Store the kernels of Dense and conv nodes as sparse_initializer (nonzero values + INT64 linear
   * indices) wherever that is smaller than the dense tensor. Default false: dense initializers.
   */
  sparse?: boolean;
}
