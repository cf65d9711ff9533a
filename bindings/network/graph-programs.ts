// Which Net-Trim program each prunable node of a graph gets (issue 9): the ReLU program when the
// node's own activation is relu, or when its output goes (alone, through nodes that do not change
// values: Dropout, a folded BatchNorm, Flatten, Reshape) straight into a ReLU; otherwise the
// linear least-squares form on its pre-activation output (a linear conv before an Add, a relu6,
// sigmoid, tanh or softmax layer, the logits). Ω of the ReLU program is where the ReLU's output
// is positive, i.e. where the node's pre-activation is, before any pooling.
import type { GraphNode, ModelGraph, PrunableNode } from "./graph/types.ts";
import type { NodeProgram } from "./graph-prune-types.ts";

/** Ops whose output is their input's data unchanged. */
const PASS_THROUGH = new Set<GraphNode["op"]>(["identity", "flatten", "reshape"]);

/** Consumers of every node, in the graph's order. */
export function consumersOf(graph: ModelGraph): Map<string, GraphNode[]> {
  const consumers = new Map<string, GraphNode[]>(graph.nodes.map((n) => [n.name, []]));
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) consumers.get(i)!.push(n);
  return consumers;
}

export function programOf(graph: ModelGraph, node: PrunableNode, consumers: Map<string, GraphNode[]>): NodeProgram {
  if (node.activation === "relu") return { program: "relu", reason: "activation relu", reluAt: node.name };
  if (node.activation !== "linear") {
    return { program: "linear", reason: `activation ${node.activation}: linear on the pre-activation output` };
  }
  let at: GraphNode = node;
  for (;;) {
    if (graph.outputs.includes(at.name)) {
      return { program: "linear", reason: at === node ? "a graph output (linear)" : `reaches the graph output "${at.name}" unchanged` };
    }
    const next: GraphNode[] = consumers.get(at.name)!;
    if (next.length !== 1) return { program: "linear", reason: `its output feeds ${next.length} nodes` };
    const c: GraphNode = next[0];
    if (c.op === "activation" && c.activation === "relu") return { program: "relu", reason: `followed by ReLU node "${c.name}"`, reluAt: c.name };
    if (!PASS_THROUGH.has(c.op)) {
      const what = c.op === "activation" ? `${c.activation} activation` : c.op;
      return { program: "linear", reason: `followed by ${what} node "${c.name}": linear on the pre-activation output` };
    }
    at = c;
  }
}

/** The target of a node's program: relu(pre) (positive zeros) for the ReLU program, else the pre-activation output itself. */
export function targetOf(program: NodeProgram, preActivation: Float32Array): Float32Array {
  if (program.program === "linear") return preActivation;
  const y = new Float32Array(preActivation.length);
  for (let i = 0; i < y.length; i++) y[i] = preActivation[i] > 0 ? preActivation[i] : 0;
  return y;
}
