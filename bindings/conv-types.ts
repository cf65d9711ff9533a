// Public types of the Conv2D layer solver (pruneConvLayer).
import type { LayerOptions } from "./types.ts";

/** A dense row-major tensor; conv signals are NHWC: [samples, height, width, channels]. */
export interface Tensor {
  data: Float32Array | Float64Array;
  shape: number[];
}

/** A Conv2D layer's geometry, as TF.js/Keras name it. */
export interface ConvGeometryOptions {
  /** [kh, kw], or one number for both. */
  kernelSize: number | readonly [number, number];
  /** [sh, sw], or one number for both. Default 1. */
  strides?: number | readonly [number, number];
  /**
   * "valid" (default): no padding. "same": output size ceil(in / stride), padded with zeros by
   * max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0) in total, the odd one at the bottom/right (TF).
   */
  padding?: "same" | "valid";
  /** [dh, dw] (TF.js dilationRate), or one number for both. Default 1. */
  dilation?: number | readonly [number, number];
}

/**
 * Options of pruneConvLayer: the layer's geometry and the LayerOptions of pruneLayer. The upper
 * bound V is a tensor of the output's shape; the products are the convolution itself, so there
 * is no sparseInput choice.
 */
export interface ConvLayerOptions extends Omit<LayerOptions, "upperBound" | "sparseInput">, ConvGeometryOptions {
  upperBound?: Tensor;
  /**
   * How each ADMM iteration solves (A*A + I)W = D: "factored" (C̃⁻¹ formed once at setup, N̄² floats),
   * "cg" (conjugate gradient on the convolution, warm-started, no N̄×N̄ matrix), or "auto"
   * (default): factored when it fits in WebAssembly memory, else CG.
   */
  wUpdate?: "auto" | "factored" | "cg";
}
