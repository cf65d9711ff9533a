// buildGraph, the entrance every reader goes through: topological order, shape inference, and a
// GraphError naming the node for every inconsistency. Hand-built graphs, expected shapes by hand.
import { describe, expect, it } from "vitest";
import { buildGraph, forwardGraph, GraphError, type GraphNodeSpec } from "../bindings/index.ts";

const conv = (name: string, input: string, filters: number, inC: number, extra: Partial<GraphNodeSpec> = {}): GraphNodeSpec => ({
  name, op: "conv2d", inputs: [input], filters, kernelSize: [3, 3], strides: [2, 2], padding: "same", dilation: [1, 1],
  activation: "relu", kernel: new Float32Array(9 * inC * filters).fill(0.1), bias: null, ...extra,
} as GraphNodeSpec);

function graphError(f: () => unknown): GraphError {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(GraphError); return e as GraphError; }
  throw new Error("expected a GraphError");
}

describe("buildGraph", () => {
  it("orders nodes given in any order, inputs first, ties in the given order; infers every shape", () => {
    const specs: GraphNodeSpec[] = [
      { name: "sum", op: "add", inputs: ["b", "a"] },
      conv("b", "x", 4, 3),
      { name: "cat", op: "concat", inputs: ["sum", "a"], axis: -1 },
      conv("a", "x", 4, 3, { padding: "valid" }),
      { name: "x", op: "input", inputs: [], shape: [7, 7, 3] },
    ];
    const bad = graphError(() => buildGraph(specs, ["x"], ["cat"]));
    expect([bad.node, bad.op]).toEqual(["sum", "add"]); // same padding gives 4×4, valid 3×3
    const ok = specs.map((s) => (s.name === "a" ? conv("a", "x", 4, 3) : s));
    const g = buildGraph(ok, ["x"], ["cat"]);
    expect(g.nodes.map((n) => n.name)).toEqual(["x", "b", "a", "sum", "cat"]);
    expect(g.nodes.map((n) => n.shape)).toEqual([[7, 7, 3], [4, 4, 4], [4, 4, 4], [4, 4, 4], [4, 4, 8]]);
    const out = forwardGraph(g, [new Float32Array(2 * 147).fill(1)], 2).outputs[0];
    expect(out.length).toBe(2 * 128);
  });

  it("a GraphError names the node for duplicates, unknown inputs, cycles, wrong weight lengths and impossible shapes", () => {
    const x: GraphNodeSpec = { name: "x", op: "input", inputs: [], shape: [5, 5, 2] };
    expect(graphError(() => buildGraph([x, x], ["x"], ["x"])).message).toMatch(/names must be unique/);
    expect(graphError(() => buildGraph([x, conv("c", "y", 2, 2)], ["x"], ["c"])).message).toMatch(/node "c" \(conv2d\): its input "y"/);
    const loop = graphError(() => buildGraph([x, { name: "p", op: "add", inputs: ["x", "q"] }, { name: "q", op: "identity", inputs: ["p"] }], ["x"], ["q"]));
    expect(loop.message).toMatch(/cycle/);
    expect(graphError(() => buildGraph([x, conv("c", "x", 2, 3)], ["x"], ["c"])).message).toMatch(/node "c" \(conv2d\): kernel has 54 values: expected \[3, 3, 2, 2\] → = 36/);
    expect(graphError(() => buildGraph([x, conv("c", "x", 2, 2, { kernelSize: [7, 7], padding: "valid", kernel: new Float32Array(196) })], ["x"], ["c"])).message).toMatch(/does not fit the 5×5 input/);
    expect(graphError(() => buildGraph([x, { name: "r", op: "reshape", inputs: ["x"], targetShape: [7, -1] }], ["x"], ["r"])).message).toMatch(/cannot reshape \[5, 5, 2\]/);
  });
});
