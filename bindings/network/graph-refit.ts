// The refit on the support for a model graph (pruneGraph's `refit`; refit.ts for the idea): after
// Net-Trim chose each node's zeros, the kept weights of every pruned Dense and Conv2D node are
// refitted by least squares, node after node in topological order, each on the input the graph
// refitted so far gives it, toward the ORIGINAL node's pre-activation on the ORIGINAL signals (so
// a node also corrects the drift of the nodes before it). Zeros stay zeros. DepthwiseConv2D nodes
// are left as Net-Trim returned them (not refitted: no report).
import { buildGraph } from "./graph/build.ts";
import { foldBatchNorms } from "./graph/fold-batchnorm.ts";
import { forwardGraph } from "./graph/forward-graph.ts";
import { conv2dForward } from "./graph/ops-conv.ts";
import { denseForward } from "./graph/ops-linear.ts";
import { isPrunable, type GraphNode, type ModelGraph, type PrunableNode } from "./graph/types.ts";
import { consumersOf, programOf, targetOf } from "./graph-programs.ts";
import { refitConvNode } from "./conv-refit.ts";
import { refitLayer } from "./refit.ts";
import { distance, frobenius } from "./forward.ts";
import type { LayerRefit } from "./types.ts";

/** A Dense or Conv2D node's output before its activation on input x ([samples, ...inShape]). */
function preActivation(node: PrunableNode, x: Float32Array, samples: number, inShape: number[]): Float32Array {
  if (node.op === "conv2d") return conv2dForward(node, x, samples, inShape);
  if (node.op !== "dense") throw new Error(`no refit for ${node.op}`);
  const n = inShape[inShape.length - 1];
  return denseForward(node, x, x.length / n, n);
}

/** The node's new kernel and bias, refitted on input x toward pre-activation z. */
function refitNode(node: PrunableNode, x: Float32Array, samples: number, inShape: number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  if (node.op === "conv2d") return refitConvNode(node, x, samples, inShape, z, relu);
  if (node.op !== "dense") throw new Error(`no refit for ${node.op}`);
  const inputs = inShape[inShape.length - 1];
  const spec = { name: node.name, activation: "linear" as const, kernel: node.kernel, bias: node.bias ?? new Float32Array(node.units), useBias: !!node.bias, inputs, units: node.units };
  const w = refitLayer(spec, x, x.length / inputs, z, relu);
  return { kernel: Float32Array.from(w.kernel), bias: node.bias ? Float32Array.from(w.bias) : null };
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
  const targets = folded.nodes.filter((n): n is PrunableNode => isPrunable(n) && n.op !== "depthwiseConv2d" && names.includes(n.name));
  const originalPre = forwardGraph(folded, [x], samples, { preActivationOf: targets.map((n) => n.name) }).preActivations;
  const replaced = new Map<string, GraphNode>();
  const nodeOf = new Map(pruned.nodes.map((n) => [n.name, n]));
  const current = () => buildGraph(pruned.nodes.map((n) => replaced.get(n.name) ?? n), pruned.inputs, pruned.outputs);
  const reports = new Map<string, LayerRefit>();
  for (const target of targets) {
    const started = performance.now();
    const node = nodeOf.get(target.name) as PrunableNode;
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
