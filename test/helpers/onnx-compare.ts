// What the ONNX tests share in Node and in the browser (no node: imports): the error measure
// against onnxruntime-web and the magnitude cut that puts zeros in a graph's kernels.
import { isPrunable, type ModelGraph } from "../../bindings/index.ts";

/** max over entries of |a − b| / max(|b|, 1e-3·max|b|): relative per entry, near-zero entries against the scale. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return Infinity;
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const floor = 1e-3 * scale;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}

/** A copy of the graph with every kernel cut to its largest `keep` fraction by magnitude (ties kept). */
export function magnitudeCut(graph: ModelGraph, keep: number): ModelGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      if (!isPrunable(n)) return n;
      const sorted = Array.from(n.kernel, Math.abs).sort((a, b) => b - a);
      const threshold = sorted[Math.max(0, Math.ceil(keep * sorted.length) - 1)];
      return { ...n, kernel: n.kernel.map((v) => (Math.abs(v) >= threshold ? v : 0)) };
    }),
  };
}
