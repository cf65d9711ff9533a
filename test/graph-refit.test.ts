// The refit on the support for model graphs: a Conv2D node's least squares (accumulated patch by
// patch, never an im2col) against the test's own normal equations on a materialised im2col; its
// zeros kept; the ReLU form's objective below the un-refitted weights'; pruneGraph's `refit` on a
// graph of every kind of node, the depthwise one included (zeros kept, nnz and output error measured
// on the returned graph, same bits twice), a Dense chain giving pruneNetwork's refit bits, the
// guards of refitGraph, and a bad option refused by name. The depthwise solve: depthwise-refit.test.ts.
import { describe, expect, it } from "vitest";
import { forwardGraph, isPrunable, pruneGraph, pruneNetwork, type ModelGraph } from "../bindings/index.ts";
import type { Conv2DNode } from "../bindings/network/graph/types.ts";
import { refitConvNode } from "../bindings/network/conv-refit.ts";
import { REFIT_DAMPENING } from "../bindings/network/refit.ts";
import { GraphError, ValidationError } from "../bindings/errors.ts";
import { refitGraph } from "../bindings/network/graph-refit.ts";
import { axis, im2col, naiveConv, randomConvLayer, type ConvCase } from "./helpers/conv.ts";
import { chainGraph, mixedGraph, samples } from "./helpers/graphs.ts";
import { gaussian, seededNetwork } from "./helpers/problems.ts";
import { gaussSolve } from "./helpers/gauss-solve.ts";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const count = (...arrays: (ArrayLike<number> | null)[]) => arrays.reduce((c, a) => c + (a ? Array.from(a).filter((v) => v !== 0).length : 0), 0);

/** A sparse conv node (bias of filter 0 zero), a partly zero input, and a noisy target from other weights. */
function convCase(seed: number, inShape: number[], cout: number, c: ConvCase) {
  const layer = randomConvLayer(seed, inShape, cout, c, { density: 0.5, zeroInputs: 0.3 });
  const truth = randomConvLayer(seed + 1, inShape, cout, c, { linear: true, density: 1 });
  const g = gaussian(seed + 2);
  const target = naiveConv(layer.input, inShape, truth.kernel, truth.bias, cout, c).out;
  const z = Float32Array.from(target, (v) => v + 0.1 * g());
  const bias = layer.bias.slice();
  bias[0] = 0;
  const node: Conv2DNode = {
    name: "conv", op: "conv2d", inputs: ["x"], shape: [axis(inShape[1], c.kh, c.sh, c.dh, c.padding)[0], axis(inShape[2], c.kw, c.sw, c.dw, c.padding)[0], cout],
    filters: cout, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw], activation: "linear", kernel: layer.kernel, bias,
  };
  return { node, x: layer.input, z };
}

/** Per filter f: the kept columns of the materialised im2col (ones last when its bias is kept). */
function design(node: Conv2DNode, x: Float32Array, inShape: number[], c: ConvCase, f: number) {
  const { data, P, N } = im2col(x, inShape, c);
  const F = node.filters;
  const taps = [...Array(N).keys()].filter((t) => node.kernel[t * F + f] !== 0);
  const withBias = node.bias![f] !== 0;
  const k = taps.length + (withBias ? 1 : 0);
  const col = (p: number, s: number) => (s < taps.length ? data[p * N + taps[s]] : 1);
  const pick = (kernel: ArrayLike<number>, bias: ArrayLike<number>) => [...taps.map((t) => kernel[t * F + f]), ...(withBias ? [bias[f]] : [])];
  const gram = () => Array.from({ length: k }, (_, s) => Array.from({ length: k }, (_, u) => { let v = 0; for (let p = 0; p < P; p++) v += col(p, s) * col(p, u); return v; }));
  const delta = () => (REFIT_DAMPENING * gram().reduce((sum, row, i) => sum + row[i], 0)) / k;
  const apply = (w: number[]) => Array.from({ length: P }, (_, p) => w.reduce((s, v, j) => s + col(p, j) * v, 0));
  return { P, k, col, pick, gram, delta, apply };
}

describe("refitConvNode", () => {
  const cases: [string, number[], ConvCase][] = [
    ["3×3 stride 2 same", [3, 7, 6, 2], { kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padding: "same" }],
    ["3×2 dilation 2 valid", [2, 8, 7, 3], { kh: 3, kw: 2, sh: 1, sw: 1, dh: 2, dw: 2, padding: "valid" }],
  ];
  for (const [label, inShape, c] of cases) {
    it(`${label}: each filter's weights solve the damped normal equations of the materialised im2col on its support; zeros stay`, () => {
      const F = 4;
      const { node, x, z } = convCase(31, inShape, F, c);
      const w = refitConvNode(node, x, inShape[0], inShape.slice(1), z, false);
      for (let i = 0; i < node.kernel.length; i++) if (node.kernel[i] === 0) expect(w.kernel[i]).toBe(0);
      expect(w.bias![0]).toBe(0);
      for (let f = 0; f < F; f++) {
        const d = design(node, x, inShape, c, f);
        const a = d.gram();
        const delta = d.delta();
        a.forEach((row, i) => { row[i] += delta; });
        const r = Array.from({ length: d.k }, (_, s) => { let v = 0; for (let p = 0; p < d.P; p++) v += d.col(p, s) * z[p * F + f]; return v; });
        const expected = gaussSolve(a, r);
        const got = d.pick(w.kernel, w.bias!);
        const scale = Math.sqrt(expected.reduce((s, v) => s + v * v, 0));
        got.forEach((v, s) => expect(Math.abs(v - expected[s])).toBeLessThanOrEqual(1e-6 * scale));
      }
    });
  }

  it("ReLU form: each filter's objective (fit on Ω, leak above 0 on Ω^c, ridge) at most the un-refitted weights', far below in sum", () => {
    const [label, inShape, c] = cases[0];
    const F = 4;
    const { node, x, z } = convCase(47, inShape, F, c);
    const w = refitConvNode(node, x, inShape[0], inShape.slice(1), z, true);
    for (let i = 0; i < node.kernel.length; i++) if (node.kernel[i] === 0) expect(w.kernel[i], label).toBe(0);
    let refitted = 0, own = 0;
    for (let f = 0; f < F; f++) {
      const d = design(node, x, inShape, c, f);
      const delta = d.delta();
      const objective = (weights: number[]) => d.apply(weights).reduce((s, v, p) => {
        const t = z[p * F + f];
        return s + (t > 0 ? (v - t) ** 2 : v > 0 ? v * v : 0);
      }, 0) + delta * weights.reduce((s, v) => s + v * v, 0);
      const mine = objective(d.pick(w.kernel, w.bias!)), before = objective(d.pick(node.kernel, node.bias!));
      expect(mine).toBeLessThanOrEqual(before * (1 + 1e-6));
      refitted += mine;
      own += before;
    }
    expect(refitted).toBeLessThan(0.5 * own);
  });
});

describe("pruneGraph refit", () => {
  const S = 30;
  const graph = mixedGraph();
  const x = samples(S, 72);
  const input = { data: x, shape: [S, 6, 6, 2] };
  const options = { workers: 0, epsilonGain: 0.1 } as const;

  it("keeps every zero, counts nnz on the returned weights, measures the output error of the returned graph, same bits twice", async () => {
    const plain = await pruneGraph(graph, input, options);
    const refit = await pruneGraph(graph, input, { ...options, refit: true });
    const again = await pruneGraph(graph, input, { ...options, refit: true });
    expect(refit.status).toBe("solved");
    expect(refit.refit!.timeMs).toBeGreaterThan(0);
    const plainNodes = new Map(plain.graph.nodes.map((n) => [n.name, n]));
    refit.graph.nodes.forEach((n, i) => {
      if (!isPrunable(n)) return;
      const p = plainNodes.get(n.name)!;
      if (!isPrunable(p)) throw new Error("not prunable");
      for (let j = 0; j < n.kernel.length; j++) if (p.kernel[j] === 0) expect(n.kernel[j], n.name).toBe(0);
      for (let j = 0; j < (n.bias?.length ?? 0); j++) if (p.bias![j] === 0) expect(n.bias![j], n.name).toBe(0);
      const m = again.graph.nodes[i];
      if (!isPrunable(m)) throw new Error("not prunable");
      expect(bits(m.kernel), n.name).toEqual(bits(n.kernel));
      const report = refit.layers.find((l) => l.name === n.name)!;
      expect(report.nnzAfter, n.name).toBe(count(n.kernel, n.bias));
      // Every prunable node is refitted, the depthwise one too.
      expect(report.refit!.relativeError, n.name).toBeLessThanOrEqual(report.refit!.unrefittedRelativeError + 1e-6);
      expect(bits(n.kernel), n.name).not.toEqual(bits(p.kernel));
    });
    const outputOf = (g: ModelGraph) => forwardGraph(g, [x], S).outputs[0];
    const original = outputOf(graph), returned = outputOf(refit.graph);
    let sq = 0, norm = 0;
    for (let i = 0; i < original.length; i++) { sq += (returned[i] - original[i]) ** 2; norm += original[i] ** 2; }
    expect(refit.outputError.relative).toBeCloseTo(Math.sqrt(sq / norm), 10);
    expect(refit.outputError.relative).toBeLessThan(plain.outputError.relative);
  });

  it("the first conv node's refit error, recomputed by the test's own convolution on the calibration input", async () => {
    const r = await pruneGraph(graph, input, { ...options, refit: true });
    const a = r.graph.nodes.find((n) => n.name === "a")!, a0 = graph.nodes.find((n) => n.name === "a")!;
    if (a.op !== "conv2d" || a0.op !== "conv2d") throw new Error("not conv");
    const c: ConvCase = { kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padding: "same" };
    const y = naiveConv(x, [S, 6, 6, 2], a0.kernel, a0.bias!, 3, c).out.map((v) => Math.max(v, 0));
    const yHat = naiveConv(x, [S, 6, 6, 2], a.kernel, a.bias!, 3, c).out.map((v) => Math.max(v, 0));
    let sq = 0, norm = 0;
    for (let i = 0; i < y.length; i++) { sq += (yHat[i] - y[i]) ** 2; norm += y[i] ** 2; }
    expect(r.layers.find((l) => l.name === "a")!.refit!.relativeError).toBeCloseTo(Math.sqrt(sq / norm), 5);
  });

  it("on the worker pool: the same refitted bits as in this thread (the calibration input survives the pool's hand-over)", async () => {
    const here = await pruneGraph(graph, input, { ...options, refit: true });
    const pool = await pruneGraph(graph, { data: x.slice(), shape: [S, 6, 6, 2] }, { ...options, workers: 2, refit: true });
    expect(pool.execution.workers).toBe(2);
    here.graph.nodes.forEach((n, i) => {
      const m = pool.graph.nodes[i];
      if (isPrunable(n) && isPrunable(m)) expect(bits(m.kernel), n.name).toEqual(bits(n.kernel));
    });
    expect(pool.outputError).toEqual(here.outputError);
  });

  it("a Dense chain refitted as a graph gives pruneNetwork's refit, bit for bit", async () => {
    const sizes = [10, 8, 6, 4], P = 40;
    const { network, input: xs } = seededNetwork(11, sizes, P);
    const net = await pruneNetwork(network, { data: xs, rows: P, cols: sizes[0] }, { epsilonGain: 0.1, workers: 0, refit: true });
    const r = await pruneGraph(chainGraph(network), { data: xs, shape: [P, sizes[0]] }, { epsilonGain: 0.1, workers: 0, refit: true });
    net.network.layers.forEach((l, i) => {
      const node = r.graph.nodes.find((n) => n.name === l.name)!;
      if (node.op !== "dense") throw new Error("not dense");
      expect(bits(node.kernel), l.name).toEqual(bits(l.kernel));
      expect(bits(node.bias!), l.name).toEqual(bits(l.bias));
      expect(r.layers[i].refit).toEqual({ ...net.layers[i].refit, timeMs: r.layers[i].refit!.timeMs });
    });
  });

  it("refuses a refit that is not a boolean, by name", async () => {
    await expect(pruneGraph(graph, input, { ...options, refit: 1 as unknown as boolean })).rejects.toThrow(ValidationError);
    await expect(pruneGraph(graph, input, { ...options, refit: 1 as unknown as boolean })).rejects.toThrow(/options\.refit/);
  });
});

describe("refitGraph's guards", () => {
  const S = 4;
  const graph = mixedGraph();
  const x = samples(S, 72);
  const without = (name: string) => ({ ...graph, nodes: graph.nodes.filter((n) => n.name !== name) });
  const shortKernel = { ...graph, nodes: graph.nodes.map((n) => (n.name === "e" && n.op === "dense" ? { ...n, kernel: n.kernel.subarray(1) } : n)) };
  const noBias = { ...graph, nodes: graph.nodes.map((n) => (n.name === "a" && n.op === "conv2d" ? { ...n, bias: null } : n)) };

  it("refuses a name that is not a prunable node of the original graph, naming the field and what it received", () => {
    expect(() => refitGraph(graph, graph, x, S, ["a", "nope"])).toThrow(ValidationError);
    expect(() => refitGraph(graph, graph, x, S, ["a", "nope"])).toThrow(/names\[1\]: expected the name of a Dense, Conv2D or DepthwiseConv2D node of the original graph, received "nope"/);
    expect(() => refitGraph(graph, graph, x, S, ["flat"])).toThrow(GraphError);
    expect(() => refitGraph(graph, graph, x, S, ["flat"])).toThrow(/node "flat" \(flatten\): names\[0\]: expected the name of a Dense, .* received a flatten node/);
  });

  it("refuses a pruned graph whose node is missing or has other weight lengths, naming the node, field, expected and received", () => {
    expect(() => refitGraph(graph, without("e"), x, S, ["e"])).toThrow(GraphError);
    expect(() => refitGraph(graph, without("e"), x, S, ["e"])).toThrow(/node "e" \(dense\): the pruned graph's node: expected a node named "e", received none/);
    expect(() => refitGraph(graph, shortKernel, x, S, ["e"])).toThrow(/node "e" \(dense\): the pruned graph's kernel: expected 640 values \(the original's\), received 639/);
    expect(() => refitGraph(graph, noBias, x, S, ["a"])).toThrow(/node "a" \(conv2d\): the pruned graph's bias: expected 3 values \(the original's\), received no bias/);
  });
});
