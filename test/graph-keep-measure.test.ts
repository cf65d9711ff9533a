// The per-layer keep walk's error on a graph (graph-keep-measure.ts) recomputes only the nodes
// downstream of the candidate: on a graph with branches, an Add, a depthwise node and several
// Dense nodes, every trial's error is the one a whole forward pass of that state gives, to the
// bit, before and after moves are accepted.
import { describe, expect, it } from "vitest";
import { buildGraph, forwardGraph } from "../bindings/index.ts";
import { foldBatchNorms } from "../bindings/network/graph/fold-batchnorm.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "../bindings/network/graph/types.ts";
import { graphMeasure } from "../bindings/network/graph-keep-measure.ts";
import type { NodeSolve } from "../bindings/network/graph-solve.ts";
import type { Rung } from "../bindings/network/keep-ladders.ts";
import { mixedGraph, samples } from "./helpers/graphs.ts";

const S = 5;
/** A rung of `node` with every `every`-th kernel weight zeroed (its values otherwise the node's). */
const rungOf = (node: PrunableNode, every: number, shift: number): Rung<NodeSolve> => ({
  gain: 0, ms: 0, nnz: 0,
  result: { status: "solved", weights: node.kernel.map((v, i) => ((i + shift) % every === 0 ? 0 : v)), bias: node.bias ? node.bias.map((b) => 0.5 * b) : new Float32Array(0) } as NodeSolve,
});

/** ‖Ŷ − Y‖/‖Y‖ of `folded` with the targets' weights replaced, by a whole forward pass (one graph output). */
function wholePassError(folded: ModelGraph, targets: PrunableNode[], rungs: Rung<NodeSolve>[], x: Float32Array, original: Float32Array): number {
  const byName = new Map(targets.map((n, k) => [n.name, { ...n, kernel: rungs[k].result.weights, bias: n.bias ? rungs[k].result.bias : null }]));
  const out = forwardGraph(buildGraph(folded.nodes.map((n) => byName.get(n.name) ?? n), folded.inputs, folded.outputs), [x], S).outputs[0];
  let d = 0, n = 0;
  for (let i = 0; i < out.length; i++) d += (out[i] - original[i]) ** 2;
  for (let i = 0; i < out.length; i++) n += original[i] * original[i];
  return Math.sqrt(d) / Math.sqrt(n);
}

describe("the graph walk's measure", () => {
  it("gives every trial the whole forward pass's error, to the bit, as moves are accepted", () => {
    const folded = foldBatchNorms(mixedGraph()).graph;
    const targets = folded.nodes.filter(isPrunable);
    expect(targets.map((n) => n.name)).toEqual(["a", "b", "c", "d", "dw", "pw", "e", "f", "g"]);
    const x = samples(S, 72);
    const original = forwardGraph(folded, [x], S).outputs;
    const measure = graphMeasure(folded, targets, x, S, original);
    const current = targets.map((n) => rungOf(n, 3, 0));
    const start = measure.trial(current, 0, current[0]);
    expect(start.error).toBe(wholePassError(folded, targets, current, x, original[0]));
    start.accept();
    // Accept moves of a branch node (c), of a node every branch feeds (dw) and of the first node (a), trying every node after each.
    for (const moved of [2, 4, 0, 7]) {
      for (let i = 0; i < targets.length; i++) {
        const candidate = rungOf(targets[i], 2, i);
        const trial = measure.trial(current, i, candidate);
        expect(trial.error, `${targets[i].name} after moving ${targets[moved].name}`).toBe(wholePassError(folded, targets, current.map((r, k) => (k === i ? candidate : r)), x, original[0]));
      }
      const next = rungOf(targets[moved], 4, 1);
      measure.trial(current, moved, next).accept();
      current[moved] = next;
    }
  });
});
