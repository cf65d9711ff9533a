// The network Net-Trim prunes: a chain of Dense layers, format-neutral. Readers in formats/
// build it from model files and writers put it back.

import { ShapeError, ValidationError } from "../errors.ts";
import { toF32Checked } from "../validate.ts";

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

/** Checks that the layers chain: each takes the previous one's outputs, kernel and bias of their sizes. */
export function checkDenseNetwork(network: DenseNetwork): void {
  if (!network || !Array.isArray(network.layers) || network.layers.length === 0) {
    throw new ValidationError("network", "a DenseNetwork with at least one layer", network);
  }
  let n = network.inputSize;
  network.layers.forEach((l, i) => {
    if (l.inputs !== n) throw new ShapeError(`network.layers[${i}] ("${l.name}") has ${l.inputs} inputs but receives ${n}`);
    if (l.kernel.length !== l.inputs * l.units) throw new ShapeError(`network.layers[${i}].kernel has length ${l.kernel.length}, expected ${l.inputs} × ${l.units}`);
    if (l.bias.length !== l.units) throw new ShapeError(`network.layers[${i}].bias has length ${l.bias.length}, expected ${l.units}`);
    toF32Checked(l.kernel, l.units, `network.layers[${i}].kernel`);
    toF32Checked(l.bias, l.units, `network.layers[${i}].bias`);
    n = l.units;
  });
}
