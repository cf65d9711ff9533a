// The magnitude baseline on a model graph: per prunable node, the given number of largest-|w|
// parameters (kernel and bias together) kept, the rest zeroed. Used next to pruneGraph at the
// same per-node nonzeros.
import { ValidationError } from "../errors.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "./graph/types.ts";

/**
 * Returns a new graph in which each node named in `keep` (a Dense, Conv2D or DepthwiseConv2D
 * node) keeps exactly `keep[name]` parameters: those of largest magnitude over its kernel and bias
 * together, ties broken by position (kernel first, then bias), so the result is deterministic.
 * Nodes not named keep their weights (shared with `graph`, which is not modified).
 */
export function magnitudePruneGraph(graph: ModelGraph, keep: Readonly<Record<string, number>>): ModelGraph {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const [name, count] of Object.entries(keep)) {
    const node = byName.get(name);
    if (!node || !isPrunable(node)) throw new ValidationError(`keep.${name}`, "the name of a dense or conv node of the graph", name);
    const n = parameterCount(node);
    if (!Number.isInteger(count) || count < 0 || count > n) throw new ValidationError(`keep.${name}`, `an integer in [0, ${n}]`, count);
  }
  return { ...graph, nodes: graph.nodes.map((n) => (isPrunable(n) && n.name in keep ? keepLargest(n, keep[n.name]) : n)) };
}

function parameterCount(node: PrunableNode): number {
  return node.kernel.length + (node.bias?.length ?? 0);
}

function keepLargest(node: PrunableNode, count: number): PrunableNode {
  const k = node.kernel.length;
  const bias = node.bias;
  const value = (j: number) => (j < k ? node.kernel[j] : bias![j - k]);
  const order = Array.from({ length: parameterCount(node) }, (_, j) => j)
    .sort((a, b) => Math.abs(value(b)) - Math.abs(value(a)) || a - b);
  const kernel = new Float32Array(k);
  const newBias = bias ? new Float32Array(bias.length) : null;
  for (const j of order.slice(0, count)) {
    if (j < k) kernel[j] = node.kernel[j];
    else newBias![j - k] = bias![j - k];
  }
  return { ...node, kernel, bias: newBias };
}
