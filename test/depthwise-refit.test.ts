// The refit on the support for DepthwiseConv2D nodes: per input channel and depth multiplier, the
// kept taps and bias against the test's own damped normal equations on a materialised im2col of
// that channel (linear form, and the ReLU form's alternation of free targets on Ω^c); zeros kept;
// and pruneGraph's refit on a graph with a depthwise node, its error recomputed by the test's own
// depthwise convolution and lower than the un-refitted weights'.
import { describe, expect, it } from "vitest";
import { buildGraph, pruneGraph, type ModelGraph } from "../bindings/index.ts";
import type { DepthwiseConv2DNode } from "../bindings/network/graph/types.ts";
import { refitDepthwiseNode } from "../bindings/network/conv-refit.ts";
import { REFIT_DAMPENING, REFIT_ROUNDS } from "../bindings/network/refit-units.ts";
import { axis, channelOf, im2col, naiveDepthwise, type ConvCase } from "./helpers/conv.ts";
import { gaussian, rng } from "./helpers/problems.ts";
import { gaussSolve } from "./helpers/gauss-solve.ts";

const M = 2; // depth multiplier

/** A sparse depthwise node (bias of output 1 zero), a partly zero input, and a noisy target from dense weights. */
function depthwiseCase(seed: number, inShape: number[], c: ConvCase) {
  const g = gaussian(seed), u = rng(seed + 1);
  const C = inShape[3], n = c.kh * c.kw * C * M;
  const x = new Float32Array(inShape.reduce((a, b) => a * b, 1)).map(() => (u() < 0.3 ? 0 : g()));
  const kernel = new Float32Array(n).map(() => (u() < 0.5 ? g() : 0));
  const bias = new Float32Array(C * M).map((_, i) => (i === 1 ? 0 : g()));
  const truth = new Float32Array(n).map(() => g());
  const z = Float32Array.from(naiveDepthwise(x, inShape, truth, new Float32Array(C * M).fill(0.3), M, c).out, (v) => v + 0.1 * g());
  const node = {
    name: "dw", op: "depthwiseConv2d", inputs: ["x"], depthMultiplier: M, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding,
    dilation: [c.dh, c.dw], activation: "linear", kernel, bias,
    shape: [axis(inShape[1], c.kh, c.sh, c.dh, c.padding)[0], axis(inShape[2], c.kw, c.sw, c.dw, c.padding)[0], C * M],
  } as DepthwiseConv2DNode;
  return { node, x, z };
}

/** Output o = ch·M + j's design: the kept columns of channel ch's materialised im2col (ones last when its bias is kept). */
function design(node: DepthwiseConv2DNode, x: Float32Array, inShape: number[], c: ConvCase, o: number) {
  const C = inShape[3], ch = Math.floor(o / M), j = o % M;
  const { data, P, N } = im2col(channelOf(x, inShape, ch), [...inShape.slice(0, 3), 1], c);
  const at = (t: number) => (t * C + ch) * M + j;
  const taps = [...Array(N).keys()].filter((t) => node.kernel[at(t)] !== 0);
  const withBias = node.bias![o] !== 0;
  const k = taps.length + (withBias ? 1 : 0);
  const col = (p: number, s: number) => (s < taps.length ? data[p * N + taps[s]] : 1);
  const pick = (kernel: ArrayLike<number>, bias: ArrayLike<number>) => [...taps.map((t) => kernel[at(t)]), ...(withBias ? [bias[o]] : [])];
  const apply = (w: number[]) => Array.from({ length: P }, (_, p) => w.reduce((s, v, i) => s + col(p, i) * v, 0));
  const gram = Array.from({ length: k }, (_, s) => Array.from({ length: k }, (_, v) => { let sum = 0; for (let p = 0; p < P; p++) sum += col(p, s) * col(p, v); return sum; }));
  const delta = (REFIT_DAMPENING * gram.reduce((sum, row, i) => sum + row[i], 0)) / k;
  /** (XᵀX + δI)w = Xᵀt, solved here. */
  const solve = (t: number[]) => {
    const a = gram.map((row, i) => row.map((v, l) => v + (i === l ? delta : 0)));
    return gaussSolve(a, Array.from({ length: k }, (_, s) => { let sum = 0; for (let p = 0; p < P; p++) sum += col(p, s) * t[p]; return sum; }));
  };
  return { P, pick, apply, solve, delta };
}

const cases: [string, number[], ConvCase][] = [
  ["3×3 stride 2 same", [3, 7, 6, 3], { kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padding: "same" }],
  ["3×2 dilation 2 valid", [2, 8, 7, 2], { kh: 3, kw: 2, sh: 1, sw: 1, dh: 2, dw: 2, padding: "valid" }],
];

describe("refitDepthwiseNode (multiplier 2)", () => {
  const expectClose = (got: number[], expected: number[]) => {
    const scale = Math.sqrt(expected.reduce((s, v) => s + v * v, 0));
    got.forEach((v, s) => expect(Math.abs(v - expected[s])).toBeLessThanOrEqual(1e-6 * scale));
  };
  for (const [label, inShape, c] of cases) {
    const { node, x, z } = depthwiseCase(41, inShape, c);
    const outputs = inShape[3] * M;
    const target = (o: number) => Array.from({ length: z.length / outputs }, (_, p) => z[p * outputs + o]);

    it(`${label}, linear: each output's weights solve its channel's damped normal equations on the materialised im2col; zeros stay`, () => {
      const w = refitDepthwiseNode(node, x, inShape[0], inShape.slice(1), z, false);
      for (let i = 0; i < node.kernel.length; i++) if (node.kernel[i] === 0) expect(w.kernel[i]).toBe(0);
      expect(w.bias![1]).toBe(0);
      for (let o = 0; o < outputs; o++) {
        const d = design(node, x, inShape, c, o);
        expectClose(d.pick(w.kernel, w.bias!), d.solve(target(o)));
      }
    });

    it(`${label}, relu: each output's weights are the alternation of free targets on Ω^c with the normal equations, computed here`, () => {
      const w = refitDepthwiseNode(node, x, inShape[0], inShape.slice(1), z, true);
      for (let i = 0; i < node.kernel.length; i++) if (node.kernel[i] === 0) expect(w.kernel[i]).toBe(0);
      let refitted = 0, own = 0;
      for (let o = 0; o < outputs; o++) {
        const d = design(node, x, inShape, c, o);
        const zo = target(o);
        const objective = (v: number[]) => d.apply(v).reduce((f, y, p) => f + (zo[p] > 0 ? (y - zo[p]) ** 2 : Math.max(y, 0) ** 2), 0)
          + d.delta * v.reduce((f, y) => f + y * y, 0);
        let expected = d.solve(zo);
        const mine = d.pick(node.kernel, node.bias!);
        if (objective(mine) < objective(expected)) expected = mine;
        for (let round = 1; round < REFIT_ROUNDS; round++) {
          const y = d.apply(expected);
          expected = d.solve(zo.map((t, p) => (t > 0 ? t : Math.min(y[p], 0))));
        }
        const got = d.pick(w.kernel, w.bias!);
        expectClose(got, expected);
        refitted += objective(got);
        own += objective(mine);
      }
      expect(refitted).toBeLessThan(0.5 * own);
    });
  }
});

describe("pruneGraph refit with a depthwise node", () => {
  const S = 20, inShape = [S, 7, 6, 2];
  const c: ConvCase = { kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padding: "same" };
  const g = gaussian(90), u = rng(91);
  const kernel = new Float32Array(9 * 2 * M).map(() => g() / 3);
  const bias = new Float32Array(2 * M).map(() => 0.1 * g());
  const graph: ModelGraph = buildGraph([
    { name: "x", op: "input", inputs: [], shape: [7, 6, 2] },
    { name: "dw", op: "depthwiseConv2d", inputs: ["x"], depthMultiplier: M, kernelSize: [3, 3], strides: [2, 2], padding: "same", dilation: [1, 1], activation: "relu", kernel, bias },
    { name: "flat", op: "flatten", inputs: ["dw"] },
    { name: "logits", op: "dense", inputs: ["flat"], units: 3, activation: "linear", kernel: new Float32Array(4 * 3 * 4 * 3).map(() => (u() < 0.8 ? g() / 6 : 0)), bias: null },
  ], ["x"], ["logits"]);
  const x = new Float32Array(inShape.reduce((a, b) => a * b, 1)).map(() => g());

  it("refits the depthwise node (ReLU program): zeros kept, its error recomputed by the test's own convolution, lower than before the refit", async () => {
    const options = { workers: 0, epsilonGain: 0.15 } as const;
    const plain = await pruneGraph(graph, { data: x, shape: inShape }, options);
    const refit = await pruneGraph(graph, { data: x, shape: inShape }, { ...options, refit: true });
    const node = (r: typeof plain) => r.graph.nodes.find((n) => n.name === "dw") as DepthwiseConv2DNode;
    const before = node(plain), after = node(refit);
    for (let i = 0; i < before.kernel.length; i++) if (before.kernel[i] === 0) expect(after.kernel[i]).toBe(0);
    expect(before.kernel.filter((v) => v === 0).length).toBeGreaterThan(0); // Net-Trim did prune it
    const y = naiveDepthwise(x, inShape, kernel, bias, M, c).out.map((v) => Math.max(v, 0));
    const error = (n: DepthwiseConv2DNode) => {
      const yHat = naiveDepthwise(x, inShape, n.kernel, n.bias!, M, c).out.map((v) => Math.max(v, 0));
      let sq = 0, norm = 0;
      for (let i = 0; i < y.length; i++) { sq += (yHat[i] - y[i]) ** 2; norm += y[i] ** 2; }
      return Math.sqrt(sq / norm);
    };
    const report = refit.layers.find((l) => l.name === "dw")!;
    expect(report.program).toBe("relu");
    expect(report.refit!.relativeError).toBeCloseTo(error(after), 5);
    expect(report.refit!.unrefittedRelativeError).toBeCloseTo(error(before), 5);
    expect(error(after)).toBeLessThan(0.9 * error(before));
  });
});
