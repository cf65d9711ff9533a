// The constants of the graph guarantee against brute force: each linear op's explicit matrix (the
// graph's own forward pass on a batch of basis vectors) and its largest singular value by Jacobi
// rotations (test/helpers/exact-norm.ts); max pooling and the activations on pairs of inputs,
// including one that attains the constant.
import { describe, expect, it } from "vitest";
import { buildGraph, forwardGraph, type GraphNodeSpec } from "../bindings/index.ts";
import { largestSingularValue, lipschitzOf } from "../bindings/network/graph-lipschitz.ts";
import { convNormBound, operatorNorm, patchesNormBound } from "../bindings/network/graph-operator-norms.ts";
import type { GraphNode, PrunableNode } from "../bindings/network/graph/types.ts";
import { circularConvNorm, exactLargestSingularValue, explicitMatrix } from "./helpers/exact-norm.ts";
import { gaussian, rng } from "./helpers/problems.ts";

/** The graph [input → node] and its node (shape inferred). */
function single(inShape: number[], spec: Record<string, unknown>): { node: GraphNode; run: (x: Float32Array, rows: number) => Float32Array } {
  const graph = buildGraph([{ name: "x", op: "input", inputs: [], shape: inShape }, { ...spec, name: "op", inputs: ["x"] } as unknown as GraphNodeSpec], ["x"], ["op"]);
  return { node: graph.nodes[1], run: (x, rows) => forwardGraph(graph, [x], rows).outputs[0] };
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
function exactNorm(inShape: number[], run: (x: Float32Array, rows: number) => Float32Array): number {
  const { a, rows, cols } = explicitMatrix(size(inShape), run);
  return exactLargestSingularValue(a, rows, cols);
}
function sparseWeights(seed: number, n: number): Float32Array {
  const g = gaussian(seed), u = rng(seed + 1);
  return new Float32Array(n).map(() => (u() < 0.6 ? g() : 0));
}

describe("the exact largest singular value of the tests (Jacobi)", () => {
  it("is that of a matrix with known singular values: Q·diag(3, 2, 0.5)", () => {
    const c = Math.cos(0.3), s = Math.sin(0.3);
    // rows of a rotation times diag(3, 2, 0.5), plus a zero row: singular values 3, 2, 0.5.
    const a = [3 * c, -2 * s, 0, 3 * s, 2 * c, 0, 0, 0, 0.5, 0, 0, 0];
    expect(exactLargestSingularValue(a, 4, 3)).toBeCloseTo(3, 12);
  });
});

describe("operator norms of pruned nodes against the exact SVD of the explicit matrix", () => {
  const cases: [string, number[], Record<string, unknown>][] = [
    ["conv 3×3 same, stride 1", [5, 5, 2], { op: "conv2d", filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 1] }],
    ["conv 3×3 valid, stride 2", [7, 6, 3], { op: "conv2d", filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: "valid", dilation: [1, 1] }],
    ["conv 2×3 same, stride (1, 2), dilation 2", [6, 7, 2], { op: "conv2d", filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: "same", dilation: [2, 2] }],
    ["conv 5×5 valid on 12×12 (conv2 of the bundled CNN's shape, fewer channels)", [12, 12, 2], { op: "conv2d", filters: 3, kernelSize: [5, 5], strides: [1, 1], padding: "valid", dilation: [1, 1] }],
    ["conv 1×1, stride 2 (one frequency: the kernel matrix)", [5, 4, 3], { op: "conv2d", filters: 4, kernelSize: [1, 1], strides: [2, 2], padding: "same", dilation: [1, 1] }],
    ["depthwise 3×3 same, multiplier 2", [5, 5, 3], { op: "depthwiseConv2d", depthMultiplier: 2, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 1] }],
    ["depthwise 3×3 valid, stride 2, multiplier 1", [7, 7, 2], { op: "depthwiseConv2d", depthMultiplier: 1, kernelSize: [3, 3], strides: [2, 2], padding: "valid", dilation: [1, 1] }],
  ];
  const kernelFor = (inShape: number[], spec: Record<string, unknown>, seed: number) => {
    const taps = spec.op === "dense" ? 1 : (spec.kernelSize as number[])[0] * (spec.kernelSize as number[])[1];
    return sparseWeights(seed, taps * inShape[inShape.length - 1] * ((spec.units ?? spec.filters ?? spec.depthMultiplier) as number));
  };
  cases.forEach(([what, inShape, spec], k) => {
    it(`${what}: the bound is never below the exact norm (and within 2× of it)`, () => {
      const kernel = kernelFor(inShape, spec, 40 + k);
      const { node, run } = single(inShape, { ...spec, activation: "linear", kernel, bias: null });
      const exact = exactNorm(inShape, run);
      const { norm: ours, proved } = operatorNorm(node as PrunableNode, kernel, inShape);
      expect(proved).toBe(true);
      expect(exact).toBeGreaterThan(0.5);
      // The explicit matrix holds f32 outputs of f32 weights: 1e-7 relative at most.
      expect(ours).toBeGreaterThanOrEqual(exact * (1 - 1e-7));
      expect(ours).toBeLessThan(2 * exact);
    });
  });

  cases.filter(([, , spec]) => spec.op === "conv2d").forEach(([what, inShape, spec], k) => {
    it(`${what}: the patches bound (above the torus's work limit) is never below the exact norm either`, () => {
      const kernel = kernelFor(inShape, spec, 60 + k);
      const { run } = single(inShape, { ...spec, activation: "linear", kernel, bias: null });
      const exact = exactNorm(inShape, run);
      const g = { input: [inShape[0], inShape[1]] as [number, number], kernelSize: spec.kernelSize as [number, number], strides: spec.strides as [number, number], dilation: spec.dilation as [number, number], padding: spec.padding as "same" | "valid" };
      const patches = convNormBound(kernel, inShape[2], spec.filters as number, g, 0);
      expect(patches).toBe(patchesNormBound(kernel, inShape[2], spec.filters as number, g));
      expect(patches).toBeGreaterThanOrEqual(exact * (1 - 1e-7));
    });
  });

  it("the patches bound by hand: one nonzero tap 2 of a 3×3 kernel, same on 5×5 (9 reads per cell): 3·2; valid stride 2 on 7×7 (2 per axis): 2·2", () => {
    const kernel = new Float32Array(9);
    kernel[4] = 2;
    const at = (input: [number, number], strides: [number, number], padding: "same" | "valid") =>
      patchesNormBound(kernel, 1, 1, { input, kernelSize: [3, 3], strides, dilation: [1, 1], padding });
    expect(at([5, 5], [1, 1], "same")).toBeCloseTo(6, 12);
    expect(at([7, 7], [2, 2], "valid")).toBeCloseTo(4, 12);
    // Dilation 2 on 7 cells, valid: windows read {0,2,4}, {1,3,5}, {2,4,6}: cells 2 and 4 twice.
    expect(patchesNormBound(kernel, 1, 1, { input: [7, 7], kernelSize: [3, 3], strides: [1, 1], dilation: [2, 2], padding: "valid" })).toBeCloseTo(4, 12);
  });

  it("a 1×1 conv's bound is its kernel matrix's norm (the exact norm of the map), proved within the Dense norm's 1e-6 margin", () => {
    const kernel = sparseWeights(48, 3 * 4);
    const ours = convNormBound(kernel, 3, 4, { input: [5, 4], kernelSize: [1, 1], strides: [1, 1], dilation: [1, 1], padding: "valid" });
    const exact = exactLargestSingularValue(kernel, 3, 4);
    expect(ours).toBeGreaterThanOrEqual(exact);
    expect(ours / exact - 1).toBeLessThan(1e-6 + 1e-9);
  });

  it("the conv bound is exactly the norm of the circular convolution on the torus (valid, stride 1: the input's own size)", () => {
    const [h, w, c, f, kh, kw] = [6, 5, 2, 3, 3, 2];
    const kernel = sparseWeights(50, kh * kw * c * f);
    const circular = circularConvNorm(kernel, kh, kw, c, f, h, w);
    const ours = convNormBound(kernel, c, f, { input: [h, w], kernelSize: [kh, kw], strides: [1, 1], dilation: [1, 1], padding: "valid" });
    expect(Math.abs(ours / circular - 1)).toBeLessThan(1e-9);
  });

  it("one input channel and one filter (a depthwise channel, multiplier 1): the symbol's modulus, the circular convolution's norm", () => {
    const [h, w, kh, kw] = [6, 5, 3, 2];
    const kernel = sparseWeights(51, kh * kw);
    const circular = circularConvNorm(kernel, kh, kw, 1, 1, h, w);
    const ours = convNormBound(kernel, 1, 1, { input: [h, w], kernelSize: [kh, kw], strides: [1, 1], dilation: [1, 1], padding: "valid" });
    expect(Math.abs(ours / circular - 1)).toBeLessThan(1e-9);
  });

  it("dense over the last axis of [3, 2, 5]: the kernel's norm, proved from above within pruneNetwork's margin", () => {
    const kernel = sparseWeights(45, 5 * 4);
    const { node, run } = single([3, 2, 5], { op: "dense", units: 4, activation: "linear", kernel, bias: null });
    const exact = exactNorm([3, 2, 5], run);
    const { norm: ours, proved } = operatorNorm(node as PrunableNode, kernel, [3, 2, 5]);
    expect(proved).toBe(true);
    expect(ours).toBeGreaterThanOrEqual(exact * (1 - 1e-7));
    expect(ours / exact - 1).toBeLessThan(1e-6 + 1e-7);
  });
});

describe("Lipschitz constants of the fixed ops against brute force", () => {
  const linear: [string, number[], Record<string, unknown>][] = [
    ["average pooling 2×2, stride 2, valid (windows apart)", [6, 6, 2], { op: "avgPool2d", poolSize: [2, 2], strides: [2, 2], padding: "valid" }],
    ["average pooling 3×3, stride 1, same (overlapping, edge windows smaller)", [5, 6, 1], { op: "avgPool2d", poolSize: [3, 3], strides: [1, 1], padding: "same" }],
    ["average pooling 3×2, stride (2, 1), valid", [7, 5, 2], { op: "avgPool2d", poolSize: [3, 2], strides: [2, 1], padding: "valid" }],
    ["average pooling 2×2, stride 2, same on odd sizes", [5, 7, 1], { op: "avgPool2d", poolSize: [2, 2], strides: [2, 2], padding: "same" }],
    ["global average pooling", [4, 3, 2], { op: "globalAvgPool2d", keepDims: false }],
    ["nearest upsampling 2×3", [3, 2, 2], { op: "upSample2d", size: [2, 3] }],
    ["zero padding", [3, 3, 2], { op: "zeroPad2d", pads: [1, 0, 2, 1] }],
    ["flatten", [3, 2, 2], { op: "flatten" }],
    ["BatchNorm (not folded)", [2, 2, 3], { op: "batchNorm", axis: -1, epsilon: 0.001, gamma: Float32Array.of(1.5, -2.5, 0.7), beta: Float32Array.of(0.1, 0.2, 0.3), mean: Float32Array.of(0.2, -0.1, 0), variance: Float32Array.of(0.5, 1.2, 2) }],
  ];
  for (const [what, inShape, spec] of linear) {
    it(`${what}: the exact norm of its matrix`, () => {
      const { node, run } = single(inShape, spec);
      const l = lipschitzOf(node, inShape);
      if (!("constant" in l)) throw new Error(l.absent);
      // A linear map, but BatchNorm's shift: take the differences from the zero input's output.
      const zero = run(new Float32Array(size(inShape)), 1);
      const exact = exactNorm(inShape, (x, rows) => run(x, rows).map((v, i) => v - zero[i % zero.length]));
      // The brute-force matrix holds the forward pass's f32 values (1/cells rounded: 6e-8 relative at most).
      expect(Math.abs(l.constant / exact - 1)).toBeLessThan(1e-7);
    });
  }

  it("largestSingularValue (Gram iteration) is never below the exact value, within 1e-9, on random matrices", () => {
    const g = gaussian(90);
    for (const [r, c] of [[5, 9], [9, 5], [12, 12], [1, 7]]) {
      const a = new Float64Array(r * c).map(() => g());
      const exact = exactLargestSingularValue(a, r, c);
      const ours = largestSingularValue(a, r, c);
      expect(ours).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
      expect(ours / exact - 1).toBeLessThan(1e-9);
    }
  });

  it("max pooling 3×3, stride 2, same: √(the most windows an input falls in), attained", () => {
    const inShape = [7, 7, 1];
    const { node, run } = single(inShape, { op: "maxPool2d", poolSize: [3, 3], strides: [2, 2], padding: "same" });
    const l = lipschitzOf(node, inShape);
    if (!("constant" in l)) throw new Error(l.absent);
    // Brute force: count, for each input cell, the output windows whose max changes when only it rises.
    const counts = Array.from({ length: 49 }, (_, i) => {
      const x = new Float32Array(49);
      x[i] = 1;
      return run(x, 1).filter((v) => v === 1).length;
    });
    const most = Math.max(...counts);
    expect(most).toBe(4);
    expect(l.constant).toBe(Math.sqrt(most));
    // Attained: zero against a spike where the most windows meet.
    const spike = new Float32Array(49);
    spike[counts.indexOf(most)] = 2;
    const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
    expect(dist(run(spike, 1), run(new Float32Array(49), 1)) / 2).toBeCloseTo(l.constant, 12);
    // And never exceeded on random pairs.
    const g = gaussian(91);
    for (let t = 0; t < 200; t++) {
      const a = new Float32Array(49).map(() => g()), b = a.map((v) => v + 0.3 * g());
      expect(dist(run(a, 1), run(b, 1))).toBeLessThanOrEqual(l.constant * dist(a, b) * (1 + 1e-6));
    }
  });

  it("max pooling 2×2, stride 2, valid: 1 (windows apart)", () => {
    const { node } = single([4, 4, 2], { op: "maxPool2d", poolSize: [2, 2], strides: [2, 2], padding: "valid" });
    expect(lipschitzOf(node, [4, 4, 2])).toEqual({ constant: 1 });
  });

  for (const [activation, constant] of [["relu", 1], ["relu6", 1], ["tanh", 1], ["linear", 1], ["softmax", 1], ["sigmoid", 0.25]] as const) {
    it(`activation ${activation}: ${constant}; the largest ratio on close pairs within 1% of it (softmax: not above it)`, () => {
      const width = activation === "softmax" ? 6 : 1; // elementwise: one value is the worst case
      const { node, run } = single([width], { op: "activation", activation });
      expect(lipschitzOf(node, [width])).toEqual({ constant });
      const u = rng(92);
      let largest = 0;
      for (let t = 0; t < 400; t++) {
        const a = new Float32Array(width).map(() => 6 * u() - 3), h = new Float32Array(width).map(() => (u() < 0.5 ? -1e-2 : 1e-2) * (0.5 + u()));
        const b = a.map((v, i) => v + h[i]);
        const fa = run(a, 1), fb = run(b, 1);
        largest = Math.max(largest, Math.hypot(...fa.map((v, i) => v - fb[i])) / Math.hypot(...a.map((v, i) => v - b[i])));
      }
      expect(largest).toBeLessThanOrEqual(constant * (1 + 1e-4)); // f32 outputs: 1e-5 relative on these differences
      if (activation !== "softmax") expect(largest).toBeGreaterThan(0.99 * constant);
    });
  }
});
