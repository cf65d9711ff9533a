// TF.js LayersModel (model.json + binary weight files) in and out, for feed-forward Dense networks.
//
// Runtime-neutral: no Node built-ins, so it runs in browsers too (bindings/node/files.ts reads and
// writes the files on Node). The format, as TF.js itself reads it (tfjs-core io_utils decodeWeights,
// tfjs-layers container.loadWeights):
// - model.json: {format: "layers-model", generatedBy, convertedBy, modelTopology, weightsManifest,
//   trainingConfig?, signature?, userDefinedMetadata?}; the topology is `modelTopology.model_config`
//   (Python converter) or `modelTopology` itself (saved by TF.js).
// - weightsManifest: groups {paths, weights: [{name, shape, dtype, quantization?, group?}]}; a group's
//   bytes are its files concatenated, holding its weights little-endian in manifest order (a tensor may
//   straddle two files). Quantized weights: uint8/uint16 → q·scale + min, float16 → half precision.
//
// Net-Trim prunes chains of Dense layers with relu or linear activations. Dropout, InputLayer and
// Flatten are the identity at inference (for flat input) and are skipped; an Activation or ReLU layer
// after a Dense folds into it; softmax is allowed on the last layer only (the network's output is then
// the pre-softmax logits, and the written model keeps the softmax). Anything else is refused with a
// ModelFormatError naming the layer, its class and why it can't be pruned.
import type { DenseLayerSpec, DenseNetwork } from "../../network/network.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { shapeStr, type Json } from "../json-helpers.ts";
import { parseTopology } from "./topology.ts";
import { decodeGroup, mapWeights, readManifest, splitWeightData, storedAs, type Decoded, type ManifestEntry } from "./weights.ts";
// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Reads a TF.js LayersModel as a chain of Dense layers.
 *
 * @param modelJson  the parsed model.json
 * @param weightData one ArrayBuffer per manifest group (that group's files concatenated in `paths`
 *                   order), or a single ArrayBuffer holding every group's data in manifest order
 */
export function parseLayersModel(modelJson: unknown, weightData: ArrayBuffer | ArrayBuffer[]): DenseNetwork {
  const topo = parseTopology(modelJson);
  const { entries, groups } = readManifest(modelJson as Json);

  const groupBytes = splitWeightData(groups, weightData);
  // Names and shapes first (manifest only), then the bytes.
  const mapping = mapWeights(topo.dense, entries);
  for (let li = 0; li < topo.dense.length; li++) {
    const L = topo.dense[li];
    const ke = mapping[li].kernel;
    const inputs = ke.shape[0];
    if (li === 0 && L.declaredInput !== undefined && L.declaredInput !== inputs) {
      throw new ModelFormatError({
        where: `Dense layer "${L.name}" kernel "${ke.name}"`, layer: L.name, className: "Dense", code: "shape_mismatch",
        reason: "the kernel does not match the model's declared input",
        expected: `shape [${L.declaredInput}, ${L.units}]`, received: shapeStr(ke.shape),
      });
    }
    if (li > 0) {
      const prev = topo.dense[li - 1];
      if (inputs !== prev.units) {
        throw new ModelFormatError({
          where: `Dense layer "${L.name}" kernel "${ke.name}"`, layer: L.name, className: "Dense", code: "shape_mismatch",
          reason: `shape mismatch between consecutive layers: its input must be the ${prev.units} outputs of Dense layer "${prev.name}"`,
          expected: `shape [${prev.units}, ${L.units}]`, received: shapeStr(ke.shape),
        });
      }
    }
  }
  const decoded = new Map<ManifestEntry, Decoded>();
  for (const [gi, g] of groups.entries()) {
    for (const d of decodeGroup(g.entries, groupBytes[gi], gi, g.paths)) decoded.set(d.entry, d);
  }
  const layers: DenseLayerSpec[] = [];
  for (let li = 0; li < topo.dense.length; li++) {
    const L = topo.dense[li];
    const { kernel: ke, bias: be } = mapping[li];
    const inputs = ke.shape[0];
    layers.push({
      name: L.name,
      activation: L.activation,
      kernel: decoded.get(ke)!.values!,
      bias: be ? decoded.get(be)!.values! : new Float32Array(L.units),
      useBias: L.useBias,
      inputs,
      units: L.units,
    });
  }
  const net: DenseNetwork = {
    layers,
    inputSize: layers[0].inputs,
    source: {
      format: "tfjs-layers-model",
      className: topo.className,
      modelName: topo.modelName,
      weightNames: mapping.map((m) => ({ kernel: m.kernel.name, bias: m.bias?.name })),
      storedAs: mapping.map((m) => ({ kernel: storedAs(m.kernel), bias: m.bias ? storedAs(m.bias) : undefined })),
      skippedWeights: entries.filter((e) => e.group === "optimizer").map((e) => e.name),
    },
  };
  if (topo.outputActivation) net.outputActivation = topo.outputActivation;
  return net;
}
