// A (pruned, possibly BatchNorm-folded) model graph written back into its TF.js LayersModel: the
// original model.json unchanged but for the weights manifest, which keeps every model weight's
// name, shape and manifest order, and its storage dtype where lossless (weight-encoding.ts), in
// one group and one file "weights.bin". Optimizer weights are dropped (they belong to the
// unpruned weights).
//
// A BatchNorm folded into the layer before it (foldBatchNorms) is written as the identity — gamma 1,
// beta 0, moving mean 0, moving variance 1 − ε, so that √(var + ε) = 1 — after the layer with its
// folded kernel and bias; when that layer has no bias in the file, the folded bias is written as
// the BatchNorm's beta instead (or as minus its moving mean when it has no beta either). The file's
// topology stays as it was.
import { NonFiniteError, ValidationError } from "../../errors.ts";
import { isPrunable, type GraphNode, type ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { isObject, product, shapeStr, show, type Json } from "../json-helpers.ts";
import { readLayerTopology } from "./graph-topology.ts";
import { ROLE_FIELD } from "./graph-layers.ts";
import { mapLayerWeights } from "./graph-weights.ts";
import { layerWhere, type RawLayer } from "./topology.ts";
import { encodeWeight, type EncodedWeight } from "./weight-encoding.ts";
import { quantizeWeight, type WeightQuantization } from "./quantize.ts";
import { readManifest, type ManifestEntry } from "./weights.ts";
import type { WrittenLayersModel } from "./write.ts";

function fail(l: RawLayer, expected: string, received: string, reason?: string): never {
  throw new ModelFormatError({ where: layerWhere(l), layer: l.name, className: l.className, code: "shape_mismatch", reason, expected, received });
}

function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

/** The values to write for one weight of layer `l`, from the graph. */
function valuesFor(
  l: RawLayer, role: string, e: ManifestEntry, node: GraphNode, nodes: Map<string, GraphNode>,
  fileHasBias: (layer: string) => boolean, hasRole: (role: string) => boolean,
): Float32Array {
  const n = product(e.shape);
  if (node.op === "identity" && node.foldedBatchNorm) {
    const into = nodes.get(node.foldedBatchNorm.into);
    // The folded bias, when the layer it went into cannot hold it in the file.
    const carried = into && isPrunable(into) && into.bias && !fileHasBias(into.name) ? into.bias : null;
    switch (role) {
      case "gamma": return filled(n, 1);
      case "moving_variance": return filled(n, 1 - node.foldedBatchNorm.epsilon);
      case "beta": return carried ?? filled(n, 0);
      case "moving_mean": {
        // Without a beta, the bias rides on the mean: (x − (−b))·1 + 0 = x + b.
        if (carried && !hasRole("beta")) return carried.map((b) => -b);
        return filled(n, 0);
      }
    }
  }
  const field = ROLE_FIELD[role];
  const v = (node as unknown as Record<string, unknown>)[field];
  if (!(v instanceof Float32Array)) fail(l, `a node "${node.name}" with a ${field} (for "${e.name}")`, `a ${node.op} node without one`, "the graph must be the one read from this model");
  if (v.length !== n) fail(l, `${field} of ${n} values (weight "${e.name}" ${shapeStr(e.shape)})`, `${v.length} values`);
  return v;
}

/** Nonzero weights of every dense/conv node (bias excluded), as the writer reports them. */
function countGraphNonzeros(graph: ModelGraph): { name: string; nnz: number; total: number }[] {
  return graph.nodes.filter(isPrunable).map((n) => {
    let nnz = 0;
    for (let i = 0; i < n.kernel.length; i++) if (n.kernel[i] !== 0) nnz++;
    return { name: n.name, nnz, total: n.kernel.length };
  });
}

/**
 * Writes `graph` (read from `originalModelJson` by parseLayersModelGraph, then pruned and/or
 * BatchNorm-folded) back as a TF.js LayersModel; `metadata` goes to userDefinedMetadata.netTrim
 * with the nonzero counts of every dense/conv layer. `options.quantize` stores every float weight
 * in TF.js's quantized form (lossy: see quantize.ts; zeros stay exact zeros).
 */
export function writeLayersModelGraph(
  originalModelJson: unknown, graph: ModelGraph, metadata?: Record<string, unknown>, options: { quantize?: WeightQuantization } = {},
): WrittenLayersModel {
  const quantize = options?.quantize;
  if (quantize !== undefined && quantize !== "uint8" && quantize !== "uint16" && quantize !== "float16") {
    throw new ValidationError("options.quantize", '"uint8", "uint16" or "float16"', quantize);
  }
  const topo = readLayerTopology(originalModelJson);
  const original = originalModelJson as Json;
  const { entries } = readManifest(original);
  const mapping = mapLayerWeights(topo.layers, entries);
  if (!isObject(graph) || !Array.isArray(graph.nodes)) throw new ModelFormatError({ where: "graph", expected: "a ModelGraph {nodes, inputs, outputs}", received: show(graph) });
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const fileHasBias = (layer: string) => mapping.get(layer)?.has("bias") ?? false;
  const byEntry = new Map<ManifestEntry, EncodedWeight>();
  for (const l of topo.layers) {
    const roles = mapping.get(l.name);
    if (!roles) continue;
    const node = nodes.get(l.name);
    if (!node) fail(l, `a graph node named "${l.name}"`, "none", "the graph must be the one read from this model");
    if (isPrunable(node) && node.bias && !roles.has("bias")) {
      const bn = graph.nodes.find((b) => b.op === "identity" && b.foldedBatchNorm?.into === node.name);
      if (!bn) fail(l, "no bias (use_bias is false in the file, and no folded BatchNorm follows to carry one)", "a bias");
    }
    for (const [role, e] of roles) {
      const values = valuesFor(l, role, e, node, nodes, fileHasBias, (r) => roles.has(r));
      for (let k = 0; k < values.length; k++) {
        if (!Number.isFinite(values[k])) throw new NonFiniteError(`graph node "${node.name}" ${ROLE_FIELD[role]}`, 0, k, values[k]);
      }
      const quantized = quantize && e.dtype !== "int32" ? quantizeWeight(values, quantize) : undefined;
      byEntry.set(e, quantized ?? encodeWeight(e, values));
    }
  }
  const model = entries.filter((e) => e.group !== "optimizer");
  const weights = model.map((e) => {
    const enc = byEntry.get(e)!;
    return { name: e.name, shape: e.shape, dtype: enc.dtype, ...(enc.quantization ? { quantization: enc.quantization } : {}) };
  });
  const bytes = new Uint8Array(model.reduce((a, e) => a + byEntry.get(e)!.bytes.length, 0));
  let off = 0;
  for (const e of model) { bytes.set(byEntry.get(e)!.bytes, off); off += byEntry.get(e)!.bytes.length; }

  const counts = countGraphNonzeros(graph);
  const nnz = counts.reduce((a, c) => a + c.nnz, 0), total = counts.reduce((a, c) => a + c.total, 0);
  const out = JSON.parse(JSON.stringify(original)) as Json;
  const weightsFile = "weights.bin";
  out.weightsManifest = [{ paths: [weightsFile], weights }];
  const udm = isObject(out.userDefinedMetadata) ? out.userDefinedMetadata : {};
  const netTrim: Json = { ...(metadata ?? {}), layers: counts, nnz, total, keptFraction: total > 0 ? nnz / total : 0 };
  const dropped = entries.filter((e) => e.group === "optimizer").map((e) => e.name);
  if (dropped.length > 0) netTrim.droppedOptimizerWeights = dropped;
  out.userDefinedMetadata = { ...udm, netTrim };
  return { modelJson: out, weightData: bytes.buffer, weightsFile };
}
