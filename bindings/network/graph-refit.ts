// The refit on the support for a model graph (pruneGraph's `refit`; refit.ts for the idea): after
// Net-Trim chose each node's zeros, the kept weights of every pruned Dense, Conv2D and
// DepthwiseConv2D node are refitted by least squares, node after node in topological order, each
// on the input the graph refitted so far gives it, toward the ORIGINAL node's pre-activation on the
// ORIGINAL signals (so a node also corrects the drift of the nodes before it). Zeros stay zeros.
import { GraphError, ValidationError } from "../errors.ts";
import { buildGraph } from "./graph/build.ts";
import { foldBatchNorms } from "./graph/fold-batchnorm.ts";
import { forwardGraph } from "./graph/forward-graph.ts";
import { conv2dForward, depthwiseForward } from "./graph/ops-conv.ts";
import { denseForward } from "./graph/ops-linear.ts";
import { isPrunable, type GraphNode, type ModelGraph, type PrunableNode } from "./graph/types.ts";
import { consumersOf, programOf, targetOf } from "./graph-programs.ts";
import { refitConvNode, refitDepthwiseNode } from "./conv-refit.ts";
import { refitLayer } from "./refit.ts";
import { distance, frobenius } from "./forward.ts";
import type { LayerRefit } from "./types.ts";
import { withRefit } from "./graph-node-report.ts";
import type { GraphLayerReport, GraphPruneOptions } from "./graph-prune-types.ts";

/** The guard for an op this file has no branch for (every prunable op has one today). */
function unknownOp(node: PrunableNode): never {
  const { name, op } = node as { name: string; op: string };
  throw new GraphError(name, op, `op: expected dense, conv2d or depthwiseConv2d, received ${JSON.stringify(op)}`, "invalid_option");
}

/** A prunable node's output before its activation on input x ([samples, ...inShape]). */
export function preActivation(node: PrunableNode, x: Float32Array, samples: number, inShape: number[]): Float32Array {
  if (node.op === "conv2d") return conv2dForward(node, x, samples, inShape);
  if (node.op === "depthwiseConv2d") return depthwiseForward(node, x, samples, inShape);
  if (node.op !== "dense") return unknownOp(node);
  const n = inShape[inShape.length - 1];
  return denseForward(node, x, x.length / n, n);
}

/** The node's new kernel and bias, refitted on input x toward pre-activation z. */
function refitNode(node: PrunableNode, x: Float32Array, samples: number, inShape: number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  if (node.op === "conv2d") return refitConvNode(node, x, samples, inShape, z, relu);
  if (node.op === "depthwiseConv2d") return refitDepthwiseNode(node, x, samples, inShape, z, relu);
  if (node.op !== "dense") return unknownOp(node);
  const inputs = inShape[inShape.length - 1];
  const spec = { name: node.name, activation: "linear" as const, kernel: node.kernel, bias: node.bias ?? new Float32Array(node.units), useBias: !!node.bias, inputs, units: node.units };
  const w = refitLayer(spec, x, x.length / inputs, z, relu);
  return { kernel: Float32Array.from(w.kernel), bias: node.bias ? Float32Array.from(w.bias) : null };
}

/** The original graph's prunable node named `name` (field `names[i]`). */
function originalNode(folded: ModelGraph, name: string, i: number): PrunableNode {
  const node = folded.nodes.find((n) => n.name === name);
  const expected = "the name of a Dense, Conv2D or DepthwiseConv2D node of the original graph";
  if (!node) throw new ValidationError(`names[${i}]`, expected, name);
  if (!isPrunable(node)) throw new GraphError(name, node.op, `names[${i}]: expected ${expected}, received a ${node.op} node`, "invalid_option");
  return node;
}

/** The pruned graph's node of the same name: the same op, kernel and bias lengths as the original's. */
function prunedCounterpart(original: PrunableNode, pruned: Map<string, GraphNode>): PrunableNode {
  const node = pruned.get(original.name);
  const fail = (field: string, expected: string, received: string): never => {
    throw new GraphError(original.name, original.op, `the pruned graph's ${field}: expected ${expected}, received ${received}`);
  };
  if (!node) return fail("node", `a node named ${JSON.stringify(original.name)}`, "none");
  if (node.op !== original.op) return fail("op", original.op, node.op);
  const p = node as PrunableNode;
  if (p.kernel.length !== original.kernel.length) fail("kernel", `${original.kernel.length} values (the original's)`, `${p.kernel.length}`);
  const biasLength = (n: PrunableNode) => (n.bias ? `${n.bias.length} values` : "no bias");
  if (biasLength(p) !== biasLength(original)) fail("bias", `${biasLength(original)} (the original's)`, biasLength(p));
  return p;
}

/**
 * Refits the nodes named in `names` of `pruned` (a graph pruneGraph returned from `original`:
 * BatchNorms folded, the same nodes) on the calibration samples x ([samples, ...input shape]).
 * Returns the refitted graph and, per refitted node, its error measured on the refit's input
 * against the original node's output (after the program's relu or none), refitted and not.
 * Neither graph is modified.
 */
export function refitGraph(original: ModelGraph, pruned: ModelGraph, x: Float32Array, samples: number, names: string[]): { graph: ModelGraph; reports: Map<string, LayerRefit> } {
  const folded = foldBatchNorms(original).graph;
  const consumers = consumersOf(folded);
  const shapeOf = new Map(folded.nodes.map((n) => [n.name, n.shape]));
  names.forEach((name, i) => originalNode(folded, name, i));
  const targets = folded.nodes.filter((n): n is PrunableNode => isPrunable(n) && names.includes(n.name));
  const nodeOf = new Map(pruned.nodes.map((n) => [n.name, n]));
  const prunedNodes = targets.map((t) => prunedCounterpart(t, nodeOf));
  const originalPre = forwardGraph(folded, [x], samples, { preActivationOf: targets.map((n) => n.name) }).preActivations;
  const replaced = new Map<string, GraphNode>();
  const current = () => buildGraph(pruned.nodes.map((n) => replaced.get(n.name) ?? n), pruned.inputs, pruned.outputs);
  const reports = new Map<string, LayerRefit>();
  for (const [k, target] of targets.entries()) {
    const started = performance.now();
    const node = prunedNodes[k];
    const program = programOf(folded, target, consumers);
    const relu = program.program === "relu";
    const inName = node.inputs[0], inShape = shapeOf.get(inName)!;
    const xHat = forwardGraph(current(), [x], samples, { outputsOf: [inName] }).values.get(inName)!;
    const z = originalPre.get(node.name)!;
    const w = refitNode(node, xHat, samples, inShape, z, relu);
    const refitted = { ...node, ...w } as PrunableNode;
    replaced.set(node.name, refitted);
    // Measured on what is returned: the node's output on the refit's input, against the original's.
    const y = targetOf(program, z);
    const scale = frobenius(y) || 1;
    const error = (n: PrunableNode) => distance(targetOf(program, preActivation(n, xHat, samples, inShape)), y) / scale;
    reports.set(node.name, { relativeError: error(refitted), unrefittedRelativeError: error(node), timeMs: performance.now() - started });
    originalPre.delete(node.name);
  }
  return { graph: current(), reports };
}

/**
 * pruneGraph's `refit` step: refitGraph on the returned graph's pruned nodes (named in
 * `layers`, in order), each node's report updated from the refitted weights, and its time.
 */
export function refitReturned(
  folded: ModelGraph, pruned: ModelGraph, x: Float32Array, samples: number, layers: GraphLayerReport[], onProgress: GraphPruneOptions["onProgress"],
): { graph: ModelGraph; layers: GraphLayerReport[]; refit: { timeMs: number } } {
  const started = performance.now();
  onProgress?.({ layer: 0, layers: layers.length, name: layers[0].name, phase: "refitting" });
  const r = refitGraph(folded, pruned, x, samples, layers.map((l) => l.name));
  return { graph: r.graph, layers: layers.map((l) => withRefit(l, r.graph, r.reports.get(l.name))), refit: { timeMs: performance.now() - started } };
}
