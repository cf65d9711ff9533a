// BatchNorm folding: a BatchNorm that directly follows a linear Dense/conv node, whose output
// nothing else consumes, is folded into it. With s = gamma/√(var + ε) per output channel (f64):
// kernel' = kernel·s, bias' = (bias − mean)·s + beta, each computed exactly in f64 and rounded
// once to f32. The BatchNorm node becomes an identity node that records the fold, so that a writer
// can keep the file's topology: it writes the folded kernel (and bias) into the layer and the
// BatchNorm as the identity (gamma 1, beta 0, mean 0, variance 1 − ε), or, when the layer has no
// bias in the file, the folded bias as the BatchNorm's beta.
import { buildGraph } from "./build.ts";
import { batchNormAffine } from "./ops-linear.ts";
import type { BatchNormNode, GraphNode, GraphNodeSpec, ModelGraph, PrunableNode } from "./types.ts";
import { isPrunable } from "./types.ts";

export interface FoldedBatchNorm {
  batchNorm: string;
  into: string;
}

/** The node a BatchNorm can fold into, or undefined (with the graph's consumer counts). */
function foldTarget(bn: BatchNormNode, nodes: Map<string, GraphNode>, uses: Map<string, number>, outputs: readonly string[]): PrunableNode | undefined {
  const prev = nodes.get(bn.inputs[0]);
  if (!prev || !isPrunable(prev) || prev.activation !== "linear") return undefined;
  if (uses.get(prev.name) !== 1 || outputs.includes(prev.name)) return undefined;
  return prev;
}

/**
 * A new graph with every foldable BatchNorm folded (see the file comment); the input graph is not
 * modified and the folded graph's outputs equal the original's up to the f32 rounding of the
 * folded weights. Also returns which BatchNorm went into which node.
 */
export function foldBatchNorms(graph: ModelGraph): { graph: ModelGraph; folded: FoldedBatchNorm[] } {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const replaced = new Map<string, GraphNodeSpec>();
  const folded: FoldedBatchNorm[] = [];
  for (const n of graph.nodes) {
    if (n.op !== "batchNorm") continue;
    const target = foldTarget(n, nodes, uses, graph.outputs);
    if (!target) continue;
    const { scale } = batchNormAffine(n);
    const channels = scale.length;
    const kernel = new Float32Array(target.kernel.length);
    // Every kernel layout here has the output channel innermost: [in, units], [kh, kw, inC, outC],
    // and [kh, kw, inC, mult] whose flattened (inC, mult) is the output channel c·mult + m.
    for (let i = 0; i < kernel.length; i++) kernel[i] = target.kernel[i] * scale[i % channels];
    const bias = new Float32Array(channels);
    for (let k = 0; k < channels; k++) {
      bias[k] = ((target.bias ? target.bias[k] : 0) - n.mean[k]) * scale[k] + (n.beta ? n.beta[k] : 0); // f64, rounded once
    }
    replaced.set(target.name, { ...target, kernel, bias });
    replaced.set(n.name, { name: n.name, op: "identity", inputs: [...n.inputs], origin: n.origin, foldedBatchNorm: { epsilon: n.epsilon, into: target.name } });
    folded.push({ batchNorm: n.name, into: target.name });
  }
  const specs = graph.nodes.map((n) => replaced.get(n.name) ?? n);
  return { graph: buildGraph(specs, graph.inputs, graph.outputs), folded };
}
