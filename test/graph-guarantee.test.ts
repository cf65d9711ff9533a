// pruneGraph's guarantee. Parallel mode (Theorem 1): on a Dense chain it is pruneNetwork's bound;
// on a residual graph the bound is the recursion recomputed here from the nodes' solve errors and
// the norms of their pruned maps (the conv's on its torus, checked above the exact one); on
// Concatenate, depthwise, BatchNorm-folded and the bundled CNN graphs the end-to-end error,
// measured here from the returned graph, is within it. Cascade mode: the nodes' measured errors.
// An op without a constant and an aborted run leave it absent with the reason.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraph, foldBatchNorms, forwardGraph, parseLayersModelGraph, pruneGraph, pruneNetwork, type GraphResult, type ModelGraph } from "../bindings/index.ts";
import { graphGuarantee } from "../bindings/network/graph-guarantee.ts";
import type { GraphNode, PrunableNode } from "../bindings/network/graph/types.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { circularConvNorm, exactLargestSingularValue, explicitMatrix } from "./helpers/exact-norm.ts";
import { chainGraph, conv, mixedGraph, samples } from "./helpers/graphs.ts";
import { seededNetwork } from "./helpers/problems.ts";

const PLAIN = { layerOptions: { reweight: { rounds: 0 } }, workers: 0 } as const;
const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** ‖Ŷ − Y‖_F over the outputs, the returned graph against `original` with its BatchNorms folded, by the graphs' forward passes. */
function measuredHere(original: ModelGraph, r: GraphResult, x: Float32Array, S: number): number {
  const y = forwardGraph(foldBatchNorms(original).graph, [x], S).outputs, yHat = forwardGraph(r.graph, [x], S).outputs;
  return Math.sqrt(y.reduce((s, o, i) => s + dist(yHat[i], o) ** 2, 0));
}

function expectWithinBound(original: ModelGraph, r: GraphResult, x: Float32Array, S: number): void {
  expect(r.status).toBe("solved");
  const g = r.guarantee!;
  expect(r.guaranteeAbsent).toBeUndefined();
  const measured = measuredHere(original, r, x, S);
  expect(g.measuredError).toBeCloseTo(measured, 9);
  expect(measured).toBeGreaterThan(0);
  expect(measured).toBeLessThanOrEqual(g.bound);
  for (const p of g.perNode) expect(p.measured, p.name).toBeLessThanOrEqual(p.bound * (1 + 1e-5) + 1e-6);
  expect(g.holds).toBe(true);
  expect(g.appliesToReturnedWeights).toBe(true);
  expect(g.normsProved).toBe(true);
}

/** A pruned node of `graph`, its per-sample input shape and the exact norm of its linear map (explicit matrix, bias and activation off). */
function exactNodeNorm(graph: ModelGraph, name: string): { node: PrunableNode; inShape: number[]; exact: number } {
  const node = graph.nodes.find((n) => n.name === name) as PrunableNode;
  const inShape = graph.nodes.find((n) => n.name === node.inputs[0])!.shape;
  const g = buildGraph([{ name: "x", op: "input", inputs: [], shape: inShape }, { ...node, inputs: ["x"], activation: "linear", bias: null } as GraphNode], ["x"], [name]);
  const { a, rows, cols } = explicitMatrix(inShape.reduce((p, v) => p * v, 1), (x, n) => forwardGraph(g, [x], n).outputs[0]);
  return { node, inShape, exact: exactLargestSingularValue(a, rows, cols) };
}

function concatGraph(): ModelGraph {
  return buildGraph([
    { name: "x", op: "input", inputs: [], shape: [5, 5, 2] },
    conv("a", "x", 2, 3, 3, "relu", 211),
    conv("c", "x", 2, 2, 1, "relu", 212),
    { name: "cat", op: "concat", inputs: ["a", "c"], axis: -1 },
    conv("d", "cat", 5, 4, 3, "linear", 213),
    { name: "gap", op: "globalAvgPool2d", inputs: ["d"], keepDims: false },
    { name: "out", op: "dense", inputs: ["gap"], units: 3, activation: "softmax", kernel: samples(1, 12, 214), bias: null },
  ], ["x"], ["out"]);
}

describe("pruneGraph's guarantee (Theorem 1, parallel)", () => {
  it("on a Dense chain: pruneNetwork's Theorem 1 bound, layer by layer, within 1e-9", async () => {
    const sizes = [20, 40, 30, 6], P = 300;
    const { network, input } = seededNetwork(11, sizes, P);
    const net = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { epsilonGain: 0.04, ...PLAIN });
    const r = await pruneGraph(chainGraph(network), { data: input, shape: [P, sizes[0]] }, { epsilonGain: 0.04, ...PLAIN });
    const g = r.guarantee!;
    expect(g.theorem).toBe("Theorem 1 (parallel), on the graph");
    expect(g.perNode.map((p) => p.name)).toEqual(network.layers.map((l) => l.name));
    net.guarantee.perLayer.forEach((l, i) => {
      expect(Math.abs(g.perNode[i].bound / l.bound - 1)).toBeLessThan(1e-9);
      expect(Math.abs(g.perNode[i].measured / l.measured - 1)).toBeLessThan(1e-9);
    });
    expect(Math.abs(g.bound / net.guarantee.bound - 1)).toBeLessThan(1e-9);
    expect(g.relativeError).toBeCloseTo(net.guarantee.relativeError, 9);
    expectWithinBound(chainGraph(network), r, input, P);
  });

  it("on a residual graph (Add): the bound is the recursion with the exact norms, recomputed here", async () => {
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [6, 6, 2] },
      conv("a", "x", 2, 4, 3, "relu", 201),
      conv("b", "a", 4, 4, 3, "linear", 202),
      { name: "sum", op: "add", inputs: ["b", "a"] },
      { name: "r", op: "activation", inputs: ["sum"], activation: "relu" },
      { name: "pool", op: "maxPool2d", inputs: ["r"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { name: "flat", op: "flatten", inputs: ["pool"] },
      { name: "out", op: "dense", inputs: ["flat"], units: 5, activation: "linear", kernel: samples(1, 36 * 5, 203).map((v) => v / 6), bias: null },
    ], ["x"], ["out"]);
    const S = 40, x = samples(S, 72, 204);
    const r = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { epsilonGain: 0.1, ...PLAIN });
    expectWithinBound(graph, r, x, S);
    expect(r.layers.map((l) => l.program)).toEqual(["relu", "linear", "linear"]);
    const d = new Map(r.layers.map((l) => [l.name, l.info!.outputError]));
    // ‖Ŵ_b‖: the circular convolution's on the 7×7 torus (6×6 input, 3×3 "same": one cell of padding each side,
    // which the torus's seventh row and column hold); not below the exact norm of b's own map. ‖Ŵ_out‖: exact.
    const b = exactNodeNorm(r.graph, "b");
    const normB = circularConvNorm(b.node.kernel, 3, 3, 4, 4, 7, 7);
    expect(normB).toBeGreaterThanOrEqual(b.exact);
    expect(normB).toBeGreaterThan(1.2); // the norms matter here: a bound without them is another number
    const normOut = exactNodeNorm(r.graph, "out").exact;
    const bA = d.get("a")!;
    const bB = d.get("b")! + normB * bA;
    const bSum = bA + bB; // relu, 2×2 pooling with windows apart and flatten: 1 each
    const bOut = d.get("out")! + normOut * bSum;
    const g = r.guarantee!;
    const expected = { a: bA, b: bB, sum: bSum, r: bSum, pool: bSum, flat: bSum, out: bOut };
    for (const p of g.perNode) expect(Math.abs(p.bound / expected[p.name as keyof typeof expected] - 1), p.name).toBeLessThan(2e-6);
  });

  it("on a Concatenate graph with global average pooling: within the bound", async () => {
    const graph = concatGraph();
    const S = 30, x = samples(S, 50, 215);
    const r = await pruneGraph(graph, { data: x, shape: [S, 5, 5, 2] }, { epsilonGain: 0.1, ...PLAIN });
    expectWithinBound(graph, r, x, S);
    const b = new Map(r.guarantee!.perNode.map((p) => [p.name, p.bound]));
    expect(b.get("cat")).toBeCloseTo(Math.hypot(b.get("a")!, b.get("c")!), 12);
    expect(b.get("gap")).toBeCloseTo(b.get("d")! / 5, 12); // 1/√(5·5)
  });

  it("on a graph with a depthwise node, a folded BatchNorm before a ReLU node, relu6, tanh, sigmoid and softmax: within the bound", async () => {
    const graph = mixedGraph();
    const S = 24, x = samples(S, 72, 216);
    const r = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { epsilonGain: 0.1, ...PLAIN });
    expect(r.layers.find((l) => l.name === "b")!.programReason).toBe(`followed by ReLU node "rb"`);
    expectWithinBound(graph, r, x, S);
  });

  it("on the bundled MNIST CNN, 40 digits: within the bound", async () => {
    const dir = path.join(import.meta.dirname, "..", "models", "mnist-cnn");
    const bin = fs.readFileSync(path.join(dir, "weights.bin"));
    const graph = parseLayersModelGraph(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const S = 40, x = loadMnist().trainX.slice(0, S * PIXELS);
    const r = await pruneGraph(graph, { data: x, shape: [S, 28, 28, 1] }, { ...PLAIN });
    expectWithinBound(graph, r, x, S);
    expect(r.guarantee!.relativeError).toBeGreaterThan(0);
  });

  it("with only some nodes pruned (layers): the others' error is 0 until a pruned node, then carried by their norms", async () => {
    const graph = concatGraph();
    const S = 30, x = samples(S, 50, 220);
    const r = await pruneGraph(graph, { data: x, shape: [S, 5, 5, 2] }, { epsilonGain: 0.1, layers: ["d"], ...PLAIN });
    expectWithinBound(graph, r, x, S);
    const bound = new Map(r.guarantee!.perNode.map((p) => [p.name, p.bound]));
    expect([bound.get("a"), bound.get("c"), bound.get("cat")]).toEqual([0, 0, 0]);
    expect(bound.get("d")).toBe(r.layers[0].info!.outputError);
    // "out" keeps its weights: softmax (1) after its kernel's norm, exact here, times gap's bound.
    const normOut = exactNodeNorm(r.graph, "out").exact;
    expect(Math.abs(bound.get("out")! / (normOut * bound.get("gap")!) - 1)).toBeLessThan(2e-6);
  });

  it("with keep (per-layer allocation: every rung solved on the original signals): within the bound", async () => {
    const graph = concatGraph();
    const S = 30, x = samples(S, 50, 219);
    const r = await pruneGraph(graph, { data: x, shape: [S, 5, 5, 2] }, { keep: 0.5, ...PLAIN });
    expect(r.keep!.allocation).toBe("per-layer");
    expectWithinBound(graph, r, x, S);
  });

  it("with refit: the bound and measured error of the weights before it, the same numbers as without", async () => {
    const graph = mixedGraph();
    const S = 24, x = samples(S, 72, 217);
    const plain = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { epsilonGain: 0.1, ...PLAIN });
    const refitted = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { epsilonGain: 0.1, refit: true, ...PLAIN });
    expect(refitted.guarantee!.appliesToReturnedWeights).toBe(false);
    expect({ ...refitted.guarantee!, appliesToReturnedWeights: true }).toEqual(plain.guarantee);
  });

  it("cascade: each pruned node's measured error, propagated through the other ops only; within it", async () => {
    const graph = mixedGraph();
    const S = 24, x = samples(S, 72, 218);
    const r = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { mode: "cascade", epsilonGain: 0.1, ...PLAIN });
    const g = r.guarantee!;
    expect(g.theorem).toBe("cascade: measured node errors, on the graph");
    expectWithinBound(graph, r, x, S);
    const bound = new Map(g.perNode.map((p) => [p.name, p.bound]));
    const measured = new Map(g.perNode.map((p) => [p.name, p.measured]));
    // A node on the ReLU program with its own relu: its solve's error, which is its output's (solved on the pruned input).
    expect(bound.get("a")).toBe(r.layers.find((l) => l.name === "a")!.info!.outputError);
    expect(Math.abs(measured.get("a")! / bound.get("a")! - 1)).toBeLessThan(1e-6);
    // relu6 (linear program, constant 1) on the depthwise node: √Σ of its channels' errors.
    const dw = r.layers.find((l) => l.name === "dw")!;
    expect(bound.get("dw")).toBeCloseTo(Math.sqrt(dw.channels!.reduce((s, c) => s + c.outputError ** 2, 0)), 12);
    // The ReLU node after "b": its solve's error (after the ReLU), not more than the pre-activation's.
    expect(bound.get("rb")).toBe(r.layers.find((l) => l.name === "b")!.info!.outputError);
    expect(bound.get("rb")).toBeLessThanOrEqual(bound.get("b")!);
  });

  it("absent, with the reason: an aborted run, an op without a Lipschitz constant", async () => {
    const graph = mixedGraph();
    const S = 24, x = samples(S, 72, 218);
    const controller = new AbortController();
    controller.abort();
    const aborted = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { signal: controller.signal, ...PLAIN });
    expect(aborted.guarantee).toBeUndefined();
    expect(aborted.guaranteeAbsent).toBe("the run did not complete: the original graph is returned");
    // An op the guarantee has no constant for (none of the graph's ops today): a node of a made-up op.
    const odd = { nodes: [
      { name: "x", op: "input", inputs: [], shape: [3] },
      { name: "gelu", op: "gelu", inputs: ["x"], shape: [3] },
    ] as unknown as GraphNode[], inputs: ["x"], outputs: ["gelu"] };
    expect(graphGuarantee(odd, odd, new Float32Array(3), 1, [], "parallel", false)).toEqual({ guaranteeAbsent: `node "gelu": no Lipschitz constant for op gelu` });
  });
});
