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
import { checkFinite, MAX_TENSOR_ELEMENTS } from "../weight-checks.ts";
import { parseTopology } from "./topology.ts";
import { decodeGroup, mapWeights, readManifest, splitWeightData, storedAs, type Decoded, type ManifestEntry } from "./weights.ts";
// ---------------------------------------------------------------------------------------------
// Reading

/**
 * A Dense layer must hold weights (at least one input) and fit WebAssembly's memory; checked on the
 * manifest's shapes before any bytes are decoded or a bias of `units` zeros is made.
 */
function checkSizes(layer: string, kernelWhere: string, inputs: number, units: number): void {
  const fail = (field: string, reason: string, expected: string, received: string): never => {
    throw new ModelFormatError({ where: `Dense layer "${layer}" ${field}`, layer, className: "Dense", code: "shape_mismatch", reason, expected, received });
  };
  if (inputs < 1) fail(`kernel ${kernelWhere}`, "a kernel with no input rows holds no weights", "shape [inputs ≥ 1, units]", `[${inputs}, ${units}]`);
  if (units > MAX_TENSOR_ELEMENTS || inputs * units > MAX_TENSOR_ELEMENTS) {
    fail("units", "the layer does not fit in WebAssembly's 4 GiB memory", `inputs × units ≤ 2^30 float32 values (${MAX_TENSOR_ELEMENTS})`, `${inputs} × ${units} = ${inputs * units}`);
  }
}

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
    checkSizes(L.name, ke.where, inputs, L.units);
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
    const kernel = decoded.get(ke)!.values!;
    const bias = be ? decoded.get(be)!.values! : new Float32Array(L.units);
    const place = { where: `Dense layer "${L.name}"`, layer: L.name, className: "Dense" };
    checkFinite(kernel, `kernel "${ke.name}"`, place);
    if (be) checkFinite(bias, `bias "${be.name}"`, place);
    layers.push({
      name: L.name,
      activation: L.activation,
      kernel,
      bias,
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
