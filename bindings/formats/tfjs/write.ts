// Writes a pruned network back as a TF.js LayersModel (model.json + one weights.bin), under the
// original's topology and weight names. Runtime-neutral; bindings/node/files.ts writes the files.
import { NonFiniteError, ShapeError } from "../../errors.ts";
import type { DenseNetwork } from "../../network/network.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { isObject, show, type Json } from "../json-helpers.ts";
import { parseTopology } from "./topology.ts";
import { mapWeights, readManifest } from "./weights.ts";

// ---------------------------------------------------------------------------------------------
// Writing

export interface WrittenLayersModel {
  /** The new model.json (a plain object: JSON.stringify it). */
  modelJson: Json;
  /** The single weight file's contents, float32 little-endian, in manifest order. */
  weightData: ArrayBuffer;
  /** Its file name as referenced by the manifest: "weights.bin". */
  weightsFile: string;
}

export interface LayerCount {
  name: string;
  inputs: number;
  units: number;
  /** Nonzero kernel weights. */
  nnz: number;
  /** inputs × units. */
  total: number;
  /** Nonzero biases (of units; 0 when use_bias is false). */
  biasNnz: number;
}

/** Nonzero counts per layer. */
export function countNonzeros(network: DenseNetwork): LayerCount[] {
  return network.layers.map((l) => {
    let nnz = 0;
    for (let i = 0; i < l.kernel.length; i++) if (l.kernel[i] !== 0) nnz++;
    let biasNnz = 0;
    if (l.useBias) for (let i = 0; i < l.bias.length; i++) if (l.bias[i] !== 0) biasNnz++;
    return { name: l.name, inputs: l.inputs, units: l.units, nnz, total: l.inputs * l.units, biasNnz };
  });
}

/**
 * Writes a (pruned) network back as a TF.js LayersModel: the original model.json with its topology,
 * format, generatedBy, convertedBy, trainingConfig, signature and user metadata unchanged, a
 * weightsManifest of one group holding every Dense kernel and bias as float32 in one file
 * "weights.bin" (under the original weight names), and userDefinedMetadata.netTrim with the nonzero
 * counts per layer plus `metadata`. Optimizer weights of the original (group "optimizer") are dropped:
 * they belong to the unpruned weights.
 *
 * The network must have the original's Dense layers (names, sizes, use_bias, activations).
 */
export function writeLayersModel(
  originalModelJson: unknown,
  network: DenseNetwork,
  metadata?: Record<string, unknown>,
): WrittenLayersModel {
  const topo = parseTopology(originalModelJson);
  const original = originalModelJson as Json;
  if (!isObject(network) || !Array.isArray(network.layers)) {
    throw new ModelFormatError({ where: "network", expected: "a DenseNetwork {layers, inputSize}", received: show(network) });
  }
  if (network.layers.length !== topo.dense.length) {
    throw new ModelFormatError({
      where: "network.layers", code: "shape_mismatch",
      reason: "the network must have the Dense layers of the model it is written into",
      expected: `${topo.dense.length} layers (${topo.dense.map((d) => d.name).join(", ")})`,
      received: `${network.layers.length} (${network.layers.map((l) => l.name).join(", ")})`,
    });
  }
  // Weight names as the original manifest has them (the loader matches them to layer variables).
  let names: { kernel: string; bias?: string }[];
  if (Array.isArray(original.weightsManifest)) {
    names = mapWeights(topo.dense, readManifest(original).entries).map((m) => ({ kernel: m.kernel.name, bias: m.bias?.name }));
  } else {
    names = topo.dense.map((d) => ({ kernel: `${d.name}/kernel`, bias: d.useBias ? `${d.name}/bias` : undefined }));
  }
  if (network.outputActivation !== undefined && network.outputActivation !== topo.outputActivation) {
    throw new ModelFormatError({ where: "network.outputActivation", expected: show(topo.outputActivation ?? null) + " (as in the original topology)", received: show(network.outputActivation) });
  }
  const weights: { name: string; shape: number[]; dtype: "float32" }[] = [];
  let totalFloats = 0;
  network.layers.forEach((l, i) => {
    const t = topo.dense[i];
    const where = `network.layers[${i}] ("${l.name}")`;
    const mismatch = (field: string, expected: unknown, received: unknown) => {
      throw new ModelFormatError({ where: `${where}.${field}`, code: "shape_mismatch", layer: l.name, className: "Dense", reason: `it must match Dense layer "${t.name}" of the original topology`, expected: show(expected), received: show(received) });
    };
    if (l.name !== t.name) mismatch("name", t.name, l.name);
    if (l.units !== t.units) mismatch("units", t.units, l.units);
    if (l.useBias !== t.useBias) mismatch("useBias", t.useBias, l.useBias);
    if (l.activation !== t.activation) mismatch("activation", t.activation, l.activation);
    if (i > 0 && l.inputs !== network.layers[i - 1].units) mismatch("inputs", network.layers[i - 1].units, l.inputs);
    if (!(l.kernel instanceof Float32Array) || l.kernel.length !== l.inputs * l.units) {
      throw new ShapeError(`${where}.kernel has length ${l.kernel?.length}: expected inputs × units = ${l.inputs} × ${l.units} = ${l.inputs * l.units}`);
    }
    if (!(l.bias instanceof Float32Array) || l.bias.length !== l.units) {
      throw new ShapeError(`${where}.bias has length ${l.bias?.length}: expected units = ${l.units}`);
    }
    for (let k = 0; k < l.kernel.length; k++) {
      if (!Number.isFinite(l.kernel[k])) throw new NonFiniteError(`${where}.kernel`, Math.floor(k / l.units), k % l.units, l.kernel[k]);
    }
    for (let k = 0; k < l.bias.length; k++) {
      if (!Number.isFinite(l.bias[k])) throw new NonFiniteError(`${where}.bias`, 0, k, l.bias[k]);
    }
    weights.push({ name: names[i].kernel, shape: [l.inputs, l.units], dtype: "float32" });
    totalFloats += l.kernel.length;
    if (l.useBias) {
      weights.push({ name: names[i].bias ?? `${l.name}/bias`, shape: [l.units], dtype: "float32" });
      totalFloats += l.units;
    }
  });

  const buffer = new ArrayBuffer(4 * totalFloats);
  const view = new DataView(buffer);
  let off = 0;
  for (const l of network.layers) {
    for (let k = 0; k < l.kernel.length; k++, off += 4) view.setFloat32(off, l.kernel[k], true);
    if (l.useBias) for (let k = 0; k < l.bias.length; k++, off += 4) view.setFloat32(off, l.bias[k], true);
  }

  const counts = countNonzeros(network);
  const nnz = counts.reduce((a, c) => a + c.nnz, 0);
  const total = counts.reduce((a, c) => a + c.total, 0);
  const out = JSON.parse(JSON.stringify(original)) as Json;
  const weightsFile = "weights.bin";
  out.weightsManifest = [{ paths: [weightsFile], weights }];
  const udm = isObject(out.userDefinedMetadata) ? out.userDefinedMetadata : {};
  const netTrim: Json = {
    ...(metadata ?? {}),
    layers: counts,
    nnz,
    total,
    keptFraction: total > 0 ? nnz / total : 0,
  };
  const skipped = network.source?.skippedWeights ?? [];
  if (skipped.length > 0) netTrim.droppedOptimizerWeights = skipped;
  out.userDefinedMetadata = { ...udm, netTrim };
  return { modelJson: out, weightData: buffer, weightsFile };
}
