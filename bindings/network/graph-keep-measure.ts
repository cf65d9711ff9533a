// The per-layer keep walk's error on a model graph (graph-keep.ts): the graph's outputs on the
// calibration samples with the candidate node's weights replaced, ‖Ŷ − Y‖/‖Y‖ over every output.
// Only the nodes downstream of the candidate are recomputed: the walk's current state keeps the
// values its trials need (the inputs of every node downstream of a pruned node that are not
// themselves downstream of it, and the graph's outputs), fed to a graph of the downstream nodes.
// Every op runs on the same inputs as in a whole-graph pass, so the values are the same bits.
import { buildGraph } from "./graph/build.ts";
import { forwardGraph } from "./graph/forward-graph.ts";
import type { GraphNode, GraphNodeSpec, ModelGraph, PrunableNode } from "./graph/types.ts";
import { distance, frobenius } from "./forward.ts";
import type { NodeSolve } from "./graph-solve.ts";
import type { Rung } from "./keep-ladders.ts";
import type { WalkMeasure } from "./keep-walk.ts";

/** The graph with the given nodes' weights replaced by their rungs'. */
export function withRungs(folded: ModelGraph, targets: readonly PrunableNode[], rungs: readonly Rung<NodeSolve>[]): ModelGraph {
  const replaced = new Map<string, GraphNode>(targets.map((n, k) => [n.name, { ...n, kernel: rungs[k].result.weights, bias: n.bias ? rungs[k].result.bias : null }]));
  return buildGraph(folded.nodes.map((n) => replaced.get(n.name) ?? n), folded.inputs, folded.outputs);
}

/** Every node downstream of `name` (itself included), in the graph's order. */
function downstreamOf(graph: ModelGraph, name: string): Set<string> {
  const seen = new Set([name]);
  for (const n of graph.nodes) if (n.inputs.some((i) => seen.has(i))) seen.add(n.name);
  return seen;
}

export function graphMeasure(
  folded: ModelGraph, targets: readonly PrunableNode[], x: Float32Array, samples: number, original: readonly Float32Array[],
): WalkMeasure<NodeSolve> {
  const norms = original.map(frobenius);
  const downstream = targets.map((t) => downstreamOf(folded, t.name));
  // Inputs of a target's downstream nodes from outside it: fed from the current state's values.
  const boundary = downstream.map((d) => [...new Set(folded.nodes.filter((n) => d.has(n.name)).flatMap((n) => n.inputs).filter((i) => !d.has(i)))]);
  const kept = [...new Set([...boundary.flat(), ...folded.outputs])];
  let values: Map<string, Float32Array> | undefined; // the current state's, once a trial is accepted
  const errorOf = (outputs: Float32Array[]) => {
    const d = outputs.map((o, k) => distance(o, original[k]));
    // One output (a chain's logits): the same number a chain's walk measures.
    return d.length === 1 ? d[0] / (norms[0] || 1)
      : Math.sqrt(d.reduce((s, v) => s + v * v, 0)) / (Math.sqrt(norms.reduce((s, v) => s + v * v, 0)) || 1);
  };
  return {
    trial(current, i, rung) {
      const graph = withRungs(folded, targets, current.map((r, k) => (k === i ? rung : r)));
      let computed: Map<string, Float32Array>;
      if (!values) {
        computed = forwardGraph(graph, [x], samples, { outputsOf: kept }).values;
      } else {
        const inside = downstream[i];
        const specs: GraphNodeSpec[] = graph.nodes.flatMap((n): GraphNodeSpec[] =>
          inside.has(n.name) ? [n] : boundary[i].includes(n.name) ? [{ name: n.name, op: "input", inputs: [], shape: n.shape }] : []);
        const outputs = graph.outputs.filter((o) => inside.has(o));
        const wanted = kept.filter((k) => inside.has(k));
        computed = outputs.length === 0 ? new Map() // (a node no output depends on: nothing changes)
          : forwardGraph(buildGraph(specs, boundary[i], outputs), boundary[i].map((b) => values!.get(b)!), samples, { outputsOf: wanted }).values;
      }
      const error = errorOf(graph.outputs.map((o) => computed.get(o) ?? values!.get(o)!));
      return { error, accept: () => { values = new Map([...(values ?? []), ...computed]); } };
    },
  };
}
