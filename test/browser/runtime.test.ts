// The sparse runtime in real headless Chromium: its wasm builds (SIMD and scalar) found with no
// configuration, and a pruned CNN (conv, depthwise, pools, dense; seeded weights) predicting the
// JS forward pass.
import { describe, expect, it } from "vitest";
import { buildGraph, createRuntime, forwardGraph } from "../../bindings/index.ts";

function seeded(n: number, density: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return new Float32Array(n).map(() => (u() < density ? u() * 2 - 1 : 0));
}

describe("sparse runtime in Chromium", () => {
  it("runs a pruned CNN within 1e-5 of forwardGraph, the same bits twice", async () => {
    const conv = { kernelSize: [3, 3] as const, strides: [1, 1] as const, dilation: [1, 1] as const, padding: "same" as const };
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [14, 14, 3] },
      { name: "c1", op: "conv2d", inputs: ["x"], filters: 10, ...conv, activation: "relu", kernel: seeded(9 * 3 * 10, 0.15, 1), bias: seeded(10, 1, 2) },
      { name: "p1", op: "maxPool2d", inputs: ["c1"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { name: "dw", op: "depthwiseConv2d", inputs: ["p1"], depthMultiplier: 1, ...conv, activation: "relu6", kernel: seeded(9 * 10, 0.3, 3), bias: null },
      { name: "f", op: "flatten", inputs: ["dw"] },
      { name: "d", op: "dense", inputs: ["f"], units: 11, activation: "softmax", kernel: seeded(7 * 7 * 10 * 11, 0.1, 4), bias: seeded(11, 1, 5) },
    ], ["x"], ["d"]);
    const rt = await createRuntime(graph);
    expect(rt.layers.map((l) => l.kernel)).toEqual(["sparse", "sparse", "sparse"]);
    for (const batch of [1, 5]) {
      const x = seeded(batch * 14 * 14 * 3, 0.6, 10 + batch);
      const want = forwardGraph(graph, [x], batch).outputs[0];
      const got = rt.predict(x, batch);
      let diff = 0, scale = 0;
      for (let i = 0; i < want.length; i++) { diff = Math.max(diff, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
      expect(diff / scale).toBeLessThan(1e-5);
      expect(Array.from(rt.predict(x, batch))).toEqual(Array.from(got));
    }
    rt.dispose();
  });

  it("the scalar build (simd: false) is found too and gives the SIMD build's bits", async () => {
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [37] },
      { name: "d1", op: "dense", inputs: ["x"], units: 29, activation: "relu", kernel: seeded(37 * 29, 0.1, 6), bias: seeded(29, 1, 7) },
      { name: "d2", op: "dense", inputs: ["d1"], units: 7, activation: "linear", kernel: seeded(29 * 7, 0.5, 8), bias: null },
    ], ["x"], ["d2"]);
    const [scalar, simd] = await Promise.all([createRuntime(graph, { simd: false }), createRuntime(graph, { simd: true })]);
    expect([scalar.simd, simd.simd]).toEqual([false, true]);
    const x = seeded(5 * 37, 0.6, 9);
    expect(Array.from(scalar.predict(x, 5))).toEqual(Array.from(simd.predict(x, 5)));
  });
});
