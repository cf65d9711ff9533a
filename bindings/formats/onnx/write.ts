// A (pruned, possibly BatchNorm-folded) model graph written back into its ONNX model: the original
// model decoded again (a deep copy with every unknown field), each weight tensor the graph holds
// replaced by the graph's values in ONNX layout (same name, dims, data type), everything else as it
// was: opset, nodes, names, metadata. External data is written inline. A Gemm whose alpha or beta
// was folded into the graph's weights gets that attribute set to 1.
//
// A BatchNorm folded into the layer before it (foldBatchNorms) is written as the identity: scale
// 1, B 0, mean 0, var 1 − ε; when that layer has no bias in the file, the folded bias is B.
import { NonFiniteError, ValidationError } from "../../errors.ts";
import { isPrunable, type GraphNode, type ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { toOnnxWeight } from "./layouts.ts";
import { decodeModel, encodeModel, EXTERNAL, type GraphProto, type SparseTensorProto, type TensorProto } from "./schema.ts";
import { denseTensor, sparseIsSmaller, sparseTensor } from "./tensor-data.ts";
import type { OnnxSource, OnnxWriteOptions, WeightBinding } from "./types.ts";

function fail(b: WeightBinding, expected: string, received: string): never {
  throw new ModelFormatError({ where: `tensor "${b.tensor}" (graph node "${b.node}" ${b.field})`, layer: b.node, expected, received, reason: "the graph must be the one read from this model" });
}

/** The graph's values for one binding, BatchNorm folds resolved. */
function graphValues(b: WeightBinding, nodes: Map<string, GraphNode>, source: OnnxSource, count: number): Float32Array {
  const node = nodes.get(b.node);
  if (!node) fail(b, `a graph node named "${b.node}"`, "none");
  if (node.op === "identity" && node.foldedBatchNorm) {
    const into = nodes.get(node.foldedBatchNorm.into);
    const fileHasBias = source.weights.some((w) => w.node === node.foldedBatchNorm!.into && w.field === "bias");
    const carried = into && isPrunable(into) && into.bias && !fileHasBias ? into.bias : null;
    switch (b.field) {
      case "gamma": return new Float32Array(count).fill(1);
      case "variance": return new Float32Array(count).fill(1 - node.foldedBatchNorm.epsilon);
      case "beta": return carried ?? new Float32Array(count);
      default: return new Float32Array(count);
    }
  }
  if (isPrunable(node) && (b.field === "kernel" || b.field === "bias")) {
    const v = node[b.field];
    return v ?? new Float32Array(count); // a bias the pruned graph dropped is written as zeros
  }
  if (node.op === "batchNorm" && b.field !== "kernel" && b.field !== "bias") {
    const v = node[b.field];
    return v ?? new Float32Array(count).fill(b.field === "gamma" ? 1 : 0);
  }
  fail(b, `a node holding ${b.field}`, `a ${node.op} node`);
}

function checkBiases(graph: ModelGraph, source: OnnxSource): void {
  for (const n of graph.nodes) {
    if (!isPrunable(n) || !n.bias) continue;
    const bound = source.weights.some((w) => w.node === n.name && w.field === "bias");
    const carrier = graph.nodes.some((b) => b.op === "identity" && b.foldedBatchNorm?.into === n.name && source.weights.some((w) => w.node === b.name && w.field === "beta"));
    if (source.weights.some((w) => w.node === n.name) && !bound && !carrier) {
      throw new ModelFormatError({ where: `graph node "${n.name}"`, layer: n.name, expected: "no bias (the model's node has no bias input, and no folded BatchNorm follows to carry one)", received: "a bias" });
    }
  }
}

function setAttributeToOne(g: GraphProto, b: WeightBinding): void {
  if (!b.scaledBy) return;
  const a = (g.node ?? [])[b.scaledBy.node]?.attribute?.find((x) => x.name === b.scaledBy!.attribute);
  if (a) a.f = 1;
}

/**
 * Writes `graph` (read from the model by parseOnnxModel, then pruned and/or BatchNorm-folded) back
 * as ONNX bytes. `sparse: true` stores Dense and conv kernels as sparse_initializer where smaller.
 */
export function writeOnnxModel(graph: ModelGraph, source: OnnxSource, options: OnnxWriteOptions = {}): Uint8Array {
  if (typeof graph !== "object" || graph === null || !Array.isArray(graph.nodes)) throw new ValidationError("graph", "a ModelGraph {nodes, inputs, outputs}", graph);
  if (typeof source !== "object" || source === null || !(source.bytes instanceof Uint8Array) || !Array.isArray(source.weights)) {
    throw new ValidationError("source", "the source parseOnnxModel returned with the graph", source);
  }
  if (options.sparse !== undefined && typeof options.sparse !== "boolean") throw new ValidationError("options.sparse", "a boolean", options.sparse);
  const model = decodeModel(source.bytes);
  const g = model.graph!;
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  checkBiases(graph, source);
  for (const t of g.initializer ?? []) {
    const loaded = t.data_location === EXTERNAL ? source.externalData.get(t.name ?? "") : undefined;
    if (!loaded) continue;
    t.raw_data = loaded.slice();
    delete t.external_data;
    delete t.data_location;
  }
  const dropInitializer = new Set<number>(), dropSparse = new Set<number>();
  const addDense: TensorProto[] = [], addSparse: SparseTensorProto[] = [];
  for (const b of source.weights) {
    const count = b.dims.reduce((a, d) => a * d, 1);
    const values = graphValues(b, nodes, source, count);
    for (let k = 0; k < values.length; k++) {
      if (!Number.isFinite(values[k])) throw new NonFiniteError(`graph node "${b.node}" ${b.field}`, 0, k, values[k]);
    }
    // A broadcast Gemm C ([1] or []) holds one value per unit once read: written as [units].
    const dims = b.layout === "vector" && values.length !== count ? [values.length] : b.dims;
    if (values.length !== dims.reduce((a, d) => a * d, 1)) fail(b, `${count} values (dims [${b.dims.join(", ")}])`, `${values.length}`);
    const onnx = toOnnxWeight(values, b.layout, dims, b.rowOrder);
    const sparse = options.sparse === true && b.field === "kernel" && b.slot.kind !== "constant" && sparseIsSmaller(onnx, b.dataType);
    setAttributeToOne(g, b);
    if (b.slot.kind === "constant") {
      const node = g.node![b.slot.node];
      const old = node.attribute?.find((a) => a.name === "value")?.t ?? { name: "" };
      node.attribute = [{ name: "value", type: 4, t: denseTensor(old, onnx, dims, b.dataType) }];
      continue;
    }
    const old: TensorProto = b.slot.kind === "initializer" ? g.initializer![b.slot.index] : g.sparse_initializer![b.slot.index].values ?? {};
    if (sparse) {
      const s = sparseTensor(b.tensor, onnx, dims, b.dataType);
      if (b.slot.kind === "sparse") g.sparse_initializer![b.slot.index] = s;
      else { dropInitializer.add(b.slot.index); addSparse.push(s); }
    } else if (b.slot.kind === "initializer") {
      g.initializer![b.slot.index] = denseTensor(old, onnx, dims, b.dataType);
    } else {
      dropSparse.add(b.slot.index);
      addDense.push(denseTensor({ name: b.tensor }, onnx, dims, b.dataType));
    }
  }
  g.initializer = [...(g.initializer ?? []).filter((_, i) => !dropInitializer.has(i)), ...addDense];
  g.sparse_initializer = [...(g.sparse_initializer ?? []).filter((_, i) => !dropSparse.has(i)), ...addSparse];
  return encodeModel(model);
}
