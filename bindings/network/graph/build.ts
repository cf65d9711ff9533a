// Builds a ModelGraph from node specs: unique names, known inputs, no cycle, nodes put in a
// topological order (ties keep the reader's order), every shape inferred and every weight length
// checked. Readers of every format go through here, so the graph's invariants hold by construction.
import { GraphError } from "../../errors.ts";
import { inferShape } from "./shapes.ts";
import type { GraphNode, GraphNodeSpec, ModelGraph } from "./types.ts";

export function buildGraph(specs: readonly GraphNodeSpec[], inputs: readonly string[], outputs: readonly string[]): ModelGraph {
  const byName = new Map<string, GraphNodeSpec>();
  for (const s of specs) {
    if (byName.has(s.name)) throw new GraphError(s.name, s.op, "a second node has this name: names must be unique", "invalid_option");
    byName.set(s.name, s);
  }
  for (const s of specs) {
    for (const i of s.inputs) {
      if (!byName.has(i)) throw new GraphError(s.name, s.op, `its input "${i}" is not a node of the graph`, "invalid_option");
    }
  }
  for (const [list, what] of [[inputs, "input"], [outputs, "output"]] as const) {
    if (list.length === 0) throw new GraphError("(graph)", "graph", `expected at least one ${what}, received none`, "invalid_option");
    for (const n of list) {
      const s = byName.get(n);
      if (!s) throw new GraphError(n, "graph", `the graph's ${what} "${n}" is not a node of the graph`, "invalid_option");
      if (what === "input" && s.op !== "input") throw new GraphError(n, s.op, "a graph input must be an input node", "invalid_option");
    }
  }
  for (const s of specs) {
    if (s.op === "input" && !inputs.includes(s.name)) throw new GraphError(s.name, s.op, "an input node that is not among the graph's inputs", "invalid_option");
  }

  // Kahn's algorithm, always taking the earliest ready node in the reader's order (deterministic).
  const position = new Map(specs.map((s, i) => [s.name, i]));
  const waiting = new Map(specs.map((s) => [s.name, new Set(s.inputs).size]));
  const consumers = new Map<string, string[]>(specs.map((s) => [s.name, []]));
  for (const s of specs) for (const i of new Set(s.inputs)) consumers.get(i)!.push(s.name);
  const ready = specs.filter((s) => s.inputs.length === 0).map((s) => s.name);
  const nodes: GraphNode[] = [];
  const shapes = new Map<string, number[]>();
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const name = ready.shift()!;
    const spec = byName.get(name)!;
    if (spec.op !== "input" && spec.inputs.length === 0) throw new GraphError(name, spec.op, "expected at least one input, received none", "invalid_option");
    const shape = inferShape(spec, spec.inputs.map((i) => shapes.get(i)!));
    shapes.set(name, shape);
    nodes.push({ ...spec, inputs: [...spec.inputs], shape } as GraphNode);
    for (const c of consumers.get(name)!) {
      const left = waiting.get(c)! - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (nodes.length !== specs.length) {
    const stuck = specs.find((s) => !shapes.has(s.name))!;
    throw new GraphError(stuck.name, stuck.op, "it is on a cycle or depends on one: a model graph must be acyclic", "invalid_option");
  }
  return { nodes, inputs: [...inputs], outputs: [...outputs] };
}
