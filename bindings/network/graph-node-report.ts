// What pruneGraph reports of a solved node and of the whole returned graph; shared with the merge
// of a graph's per-node jobs (distributed/merge-graph.ts), so both report the same numbers.
import { forwardGraph } from "./graph/forward-graph.ts";
import type { ModelGraph, PrunableNode } from "./graph/types.ts";
import { distance, frobenius } from "./forward.ts";
import type { GraphLayerReport, GraphOutputError, GraphResult, NodeProgram } from "./graph-prune-types.ts";
import type { NodeSolve } from "./graph-solve.ts";
import type { LayerRefit } from "./types.ts";

const countNonzeros = (a: Float32Array | null) => (a ? a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0) : 0);

/** The report of `node` (the folded graph's, before pruning) solved as `r`. */
export function graphLayerReport(node: PrunableNode, program: NodeProgram, r: NodeSolve, targetNorm: number, timeMs: number): GraphLayerReport {
  const parameters = node.kernel.length + (node.bias ? node.bias.length : 0);
  return {
    name: node.name, op: node.op, program: program.program, programReason: program.reason, status: r.status,
    nnzBefore: countNonzeros(node.kernel) + countNonzeros(node.bias), nnzAfter: r.nnz, parameters, keptFraction: r.nnz / parameters,
    epsilon: r.epsilon, relativeError: r.outputError / (targetNorm || 1), iterations: r.iterations,
    timeMs, ...(r.info ? { info: r.info } : { channels: r.channels }),
  };
}

/** A node's report after the refit: its nonzeros counted on the returned graph's weights, and the refit's own report. */
export function withRefit(report: GraphLayerReport, returned: ModelGraph, refit: LayerRefit | undefined): GraphLayerReport {
  if (!refit) return report;
  const node = returned.nodes.find((n) => n.name === report.name) as PrunableNode;
  const nnzAfter = countNonzeros(node.kernel) + countNonzeros(node.bias);
  return { ...report, nnzAfter, keptFraction: nnzAfter / report.parameters, refit };
}

/** The returned graph against the user's original (unfolded) graph, output by output, on the calibration samples. */
export function graphOutputError(original: ModelGraph, pruned: ModelGraph | undefined, x: Float32Array, samples: number): GraphResult["outputError"] {
  const a = forwardGraph(original, [x], samples).outputs;
  const b = pruned ? forwardGraph(pruned, [x], samples).outputs : a; // undefined: the original was returned
  let sq = 0, normSq = 0;
  const perOutput: GraphOutputError[] = original.outputs.map((name, i) => {
    const measured = distance(b[i], a[i]);
    const norm = frobenius(a[i]);
    sq += measured ** 2;
    normSq += norm ** 2;
    return { name, measured, relative: measured / (norm || 1) };
  });
  const measured = Math.sqrt(sq);
  return { measured, relative: measured / (Math.sqrt(normSq) || 1), perOutput };
}
