// Checks every reader applies to the weights it decoded, so that a bad file is refused when it is
// read, naming the layer and the tensor, rather than later by a writer or a solver that can only
// name an index: values must be finite, and sizes must fit WebAssembly's 4 GiB memory.
import type { GraphNode, ModelGraph } from "../network/graph/types.ts";
import { ModelFormatError } from "./model-format-error.ts";

/** The most float32 values one tensor may hold: 2^30 × 4 bytes = 4 GiB, WebAssembly's whole memory. */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** Where a refusal points: the layer (or node) and its class (or op). */
interface LayerPlace {
  where: string;
  layer?: string;
  className?: string;
}

/** The index of the first NaN or ±Infinity in `values`, or −1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** Throws a ModelFormatError (code "non_finite") naming the layer, the tensor and the index of the first NaN/±∞. */
export function checkFinite(values: Float32Array, tensor: string, place: LayerPlace): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  throw new ModelFormatError({
    where: `${place.where} ${tensor}`, layer: place.layer, className: place.className, code: "non_finite",
    reason: "weights must be finite numbers",
    expected: "finite values only", received: `${values[i]} at index ${i} (of ${values.length})`,
  });
}

/** Every node's output (per sample) must fit WebAssembly's memory: an UpSampling2D of size 10^5 reads fine but cannot run. */
export function checkGraphSizes(graph: ModelGraph, place: (node: GraphNode) => LayerPlace): void {
  for (const node of graph.nodes) {
    const size = node.shape.reduce((a, b) => a * b, 1);
    if (size <= MAX_TENSOR_ELEMENTS) continue;
    const p = place(node);
    throw new ModelFormatError({
      where: `${p.where} output`, layer: p.layer, className: p.className, code: "shape_mismatch",
      reason: "the layer's output does not fit in WebAssembly's 4 GiB memory",
      expected: `at most 2^30 float32 values per sample (${MAX_TENSOR_ELEMENTS})`, received: `shape [${node.shape.join(", ")}] = ${size} values`,
    });
  }
}

/** The weight fields a graph node may carry. */
const WEIGHT_FIELDS = ["kernel", "bias", "gamma", "beta", "mean", "variance"] as const;

/**
 * checkFinite on every weight of every node, and a batch norm's variance + ε > 0 (a negative moving
 * variance is no variance, and its square root is NaN); `place` names a node as its format does.
 */
export function checkGraphWeightsFinite(graph: ModelGraph, place: (node: GraphNode) => LayerPlace): void {
  for (const node of graph.nodes) {
    const fields = node as unknown as Record<string, unknown>;
    const tensor = (field: string) => (node.origin?.weightNames[field] ? `${field} "${node.origin.weightNames[field]}"` : field);
    for (const field of WEIGHT_FIELDS) {
      const v = fields[field];
      if (!(v instanceof Float32Array) || firstNonFinite(v) < 0) continue;
      checkFinite(v, tensor(field), place(node));
    }
    if (node.op !== "batchNorm") continue;
    const i = node.variance.findIndex((v) => !(v + node.epsilon > 0));
    if (i < 0) continue;
    const p = place(node);
    throw new ModelFormatError({
      where: `${p.where} ${tensor("variance")}`, layer: p.layer, className: p.className,
      reason: "a variance is never negative, and variance + epsilon must be positive to divide by its square root",
      expected: `variance + epsilon (${node.epsilon}) > 0`, received: `${node.variance[i]} at index ${i} (of ${node.variance.length})`,
    });
  }
}
