// SPEC §5's guarantee on a model graph: for every node n, in topological order, a bound b(n) on
// ‖ŝ_n − s_n‖_F, the pruned graph's signal against the original graph's (BatchNorms folded, as
// pruneGraph solves) on the calibration input, propagated from measured per-node quantities.
// Parallel mode, Theorem 1:
//   input — 0;
//   pruned node, own activation relu (ReLU program) — d + ‖Ŵ‖₂·b(in), d its solve's error on the
//     ORIGINAL input (relu(Ŵx̂+b̂) − relu(Wx+b) = [relu(Ŵx̂+b̂) − relu(Ŵx+b̂)] + [relu(Ŵx+b̂) − relu(Wx+b)],
//     the first ≤ ‖Ŵ(x̂ − x)‖ as relu is 1-Lipschitz);
//   pruned node on the linear program — L_act·(d + ‖Ŵ‖₂·b(in)), d the pre-activation error;
//   pruned node whose ReLU is a later ReLU node (through identity, flatten, reshape) — its own
//     output bound d_pre + ‖Ŵ‖₂·b(in), d_pre its pre-activation error on the original input
//     (measured here); the ReLU node then gets min(its usual bound, d + ‖Ŵ‖₂·b(in));
//   node not pruned — d = 0: L_act·‖W‖₂·b(in);
//   Add — Σ b(inputs); Concatenate — √(Σ b(inputs)²); any other op — its Lipschitz constant
//     (graph-lipschitz.ts) times b(in); an op without one: no guarantee, with the reason.
// Cascade mode, measured certificates: each pruned node was solved on the pruned graph's own
// input against the original target, so its solve's error d IS its output's error: b = d (ReLU
// program), L_act·d (linear program); a node whose ReLU comes later gets its pre-activation error
// as measured here, the ReLU node min(its usual bound, d). Only the other ops propagate.
// ‖Ŵ‖₂: graph-operator-norms.ts. On a chain of Dense layers, parallel mode is theorem1 of guarantee.ts.
import { distance, frobenius } from "./forward.ts";
import { walkGraph } from "./graph/forward-graph.ts";
import type { GraphActivation, GraphNode, ModelGraph, PrunableNode } from "./graph/types.ts";
import { isPrunable } from "./graph/types.ts";
import { lipschitzOf } from "./graph-lipschitz.ts";
import { operatorNorm } from "./graph-operator-norms.ts";
import { consumersOf, programOf } from "./graph-programs.ts";
import { preActivation } from "./graph-refit.ts";
import type { GraphGuarantee, GraphLayerReport, GraphResult } from "./graph-prune-types.ts";
import type { PruneMode } from "./types.ts";

export const INCOMPLETE_ABSENT = "the run did not complete: the original graph is returned";

const activationLipschitz = (a: GraphActivation) => (a === "sigmoid" ? 0.25 : 1);

/** d of a solved node: its solve's ‖act(Ŵ ⊛ x + b̂) − target‖_F on the input it was solved with. */
function solveError(report: GraphLayerReport): number {
  if (report.info) return report.info.outputError;
  return Math.sqrt((report.channels ?? []).reduce((s, c) => s + c.outputError ** 2, 0));
}

/**
 * The guarantee of `pruned` (the Net-Trim weights: before any refit) against `folded` (the original
 * graph, BatchNorms folded), both with the same nodes in the same order, on the calibration input
 * x ([samples, ...input shape]). `reports`: the pruned nodes' reports of the run in `mode`.
 * Spread into a GraphResult: `guarantee`, or `guaranteeAbsent` with the reason.
 */
export function graphGuarantee(
  folded: ModelGraph, pruned: ModelGraph, x: Float32Array, samples: number, reports: GraphLayerReport[], mode: PruneMode, refitted: boolean,
): Pick<GraphResult, "guarantee" | "guaranteeAbsent"> {
  const shapeOf = new Map(folded.nodes.map((n) => [n.name, n.shape]));
  const consumers = consumersOf(folded);
  const reportOf = new Map(reports.map((r) => [r.name, r]));
  const prunedOf = new Map(pruned.nodes.map((n) => [n.name, n]));

  // Everything the data does not decide first: an op without a constant costs no forward pass.
  const constant = new Map<string, number>();
  let normsProved = true;
  for (const n of folded.nodes) {
    if (n.op === "input" || n.op === "add" || n.op === "concat") continue;
    if (isPrunable(n)) {
      // Cascade propagates nothing through a pruned node.
      if (mode === "parallel" || !reportOf.has(n.name)) {
        const norm = operatorNorm(n, (prunedOf.get(n.name) as PrunableNode).kernel, shapeOf.get(n.inputs[0])!);
        normsProved &&= norm.proved;
        constant.set(n.name, norm.norm);
      }
      continue;
    }
    const l = lipschitzOf(n, shapeOf.get(n.inputs[0])!);
    if ("absent" in l) return { guaranteeAbsent: l.absent };
    constant.set(n.name, l.constant);
  }

  const bound = new Map<string, number>();
  const viaRelu = new Map<string, number>(); // ReLU node → the bound its pruned node gives it
  const perNode: GraphGuarantee["perNode"] = [];
  const held = new Map<string, Float32Array>(); // the original's signals still needed
  const keep = new Set(folded.outputs);
  const original = walkGraph(folded, [x], samples, [], keep);
  const measuredOf = new Map<string, number>();
  for (const step of walkGraph(pruned, [x], samples, [], keep)) {
    const o = original.next();
    const n = step.node;
    if (o.done || o.value.node.name !== n.name) throw new Error(`graphGuarantee: the graphs differ at node "${n.name}"`);
    held.set(n.name, o.value.value);
    const measured = distance(step.value, o.value.value);
    measuredOf.set(n.name, measured);
    const b = nodeBound(n);
    bound.set(n.name, b);
    if (n.op !== "input") perNode.push({ name: n.name, op: n.op, measured, bound: b });
    for (const name of o.value.dropped) held.delete(name);
  }

  function nodeBound(n: GraphNode): number {
    const inBound = (i = 0) => bound.get(n.inputs[i])!;
    if (n.op === "input") return 0;
    if (n.op === "add") return n.inputs.reduce((s, _, i) => s + inBound(i), 0);
    if (n.op === "concat") return Math.sqrt(n.inputs.reduce((s, _, i) => s + inBound(i) ** 2, 0));
    const propagated = (constant.get(n.name) ?? NaN) * inBound();
    if (!isPrunable(n)) return Math.min(propagated, viaRelu.get(n.name) ?? Infinity);
    const report = reportOf.get(n.name);
    if (!report) return activationLipschitz(n.activation) * propagated;
    const d = solveError(report);
    if (mode === "cascade") {
      if (report.program === "linear") return activationLipschitz(n.activation) * d;
      if (n.activation === "relu") return d;
      viaRelu.set(programOf(folded, n, consumers).reluAt!, d);
      return measuredOf.get(n.name)!; // the pre-activation's error, measured: nothing to bound it by
    }
    if (report.program === "linear") return activationLipschitz(n.activation) * (d + propagated);
    if (n.activation === "relu") return d + propagated;
    // The ReLU is a later node: this node's own output is its pre-activation.
    const { reluAt } = programOf(folded, n, consumers);
    viaRelu.set(reluAt!, d + propagated);
    const p = prunedOf.get(n.name) as PrunableNode;
    const dPre = distance(preActivation(p, held.get(n.inputs[0])!, samples, shapeOf.get(n.inputs[0])!), held.get(n.name)!);
    return dPre + propagated;
  }

  let measuredSq = 0, boundSq = 0, normSq = 0;
  for (const name of folded.outputs) {
    measuredSq += measuredOf.get(name)! ** 2;
    boundSq += bound.get(name)! ** 2;
    normSq += frobenius(held.get(name)!) ** 2;
  }
  const measuredError = Math.sqrt(measuredSq);
  return {
    guarantee: {
      theorem: mode === "parallel" ? "Theorem 1 (parallel), on the graph" : "cascade: measured node errors, on the graph",
      perNode,
      measuredError,
      relativeError: measuredError / (Math.sqrt(normSq) || 1),
      bound: Math.sqrt(boundSq),
      // The chain's tolerance (guarantee.ts): d is the solver's f64 measure, the walk stores f32.
      holds: perNode.every((p) => p.measured <= p.bound * (1 + 1e-5) + 1e-6),
      appliesToReturnedWeights: !refitted,
      normsProved,
    },
  };
}
