// The network Net-Trim prunes: a chain of Dense layers, as read from (and written back to) a model
// file, and the error a model file that is not such a chain gets.
import { NetTrimError, type NetTrimErrorCode } from "../errors.ts";

// ---------------------------------------------------------------------------------------------
// Types

export type DenseActivation = "relu" | "linear";

/** One Dense layer: y = act(x·kernel + bias). */
export interface DenseLayerSpec {
  /** The Dense layer's name in the topology. */
  name: string;
  /** The activation after the layer (an Activation/ReLU layer that follows it is folded in). */
  activation: DenseActivation;
  /** [inputs, units] row-major (TF.js Dense kernel layout). */
  kernel: Float32Array;
  /** [units]; zeros when useBias is false. */
  bias: Float32Array;
  useBias: boolean;
  inputs: number;
  units: number;
}

/** Where a network was read from, so that the writer can put the weights back under the same names. */
export interface LayersModelSource {
  format: "tfjs-layers-model";
  /** Sequential, Model or Functional. */
  className: string;
  /** config.name of the model, when present. */
  modelName?: string;
  /** Manifest names of each Dense layer's weights, in layer order (bias absent when use_bias is false). */
  weightNames: { kernel: string; bias?: string }[];
  /** How each layer's weights were stored: "float32", "int32", "float16", "uint8-quantized", ... */
  storedAs: { kernel: string; bias?: string }[];
  /** Manifest weights not belonging to the model (group "optimizer"): not read, not written back. */
  skippedWeights: string[];
}

export interface DenseNetwork {
  layers: DenseLayerSpec[];
  /** Features per sample entering the first layer. */
  inputSize: number;
  /**
   * "softmax" when the model applies a softmax after the last Dense: `layers` and forward() then
   * stop at the logits (pre-softmax), and writeLayersModel keeps the softmax in the topology.
   */
  outputActivation?: "softmax";
  source?: LayersModelSource;
}

export interface ModelFormatErrorDetails {
  /** What is wrong where: 'layer "conv1" (Conv2D)', 'weightsManifest[0].weights[3] "dense/kernel"', ... */
  where: string;
  expected: string;
  received: string;
  /** Why it can't be used, when that is not obvious from expected/received. */
  reason?: string;
  layer?: string;
  className?: string;
  file?: string;
  code?: NetTrimErrorCode;
}

/**
 * model.json or its weights can't be read as a prunable Dense network. Code "invalid_option", or
 * "shape_mismatch" when shapes disagree (consecutive layers, a weight's shape against its layer).
 */
export class ModelFormatError extends NetTrimError {
  readonly field: string;
  readonly layer?: string;
  readonly className?: string;
  readonly file?: string;
  constructor(d: ModelFormatErrorDetails) {
    super(
      d.code ?? "invalid_option",
      `${d.where}: ${d.reason ? `${d.reason}; ` : ""}expected ${d.expected}, received ${d.received}`,
    );
    this.field = d.where;
    this.layer = d.layer;
    this.className = d.className;
    this.file = d.file;
  }
}
