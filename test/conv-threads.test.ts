// One conv layer on several threads (pruneConvLayer with options.threads): the convolution split
// by output rows and its adjoint by kernel rows give the single-thread build's bits for 1, 2 and 3
// threads (weights, bias, duals, iterations, residuals, ρ), with ReLU, V and linear programs and
// several blocks of samples; the CG W-update stays on one thread and says why.
import { describe, expect, it } from "vitest";
import { compileModule, instantiate, pruneConvLayer, pruneConvLayerWith, type ConvLayerOptions, type LayerResult } from "../bindings/index.ts";
import { naiveConv, randomConvLayer, type ConvCase } from "./helpers/conv.ts";
import { expectSameBits } from "./helpers/same-bits.ts";

type Case = [name: string, seed: number, inShape: number[], cout: number, c: ConvCase, kind: "relu" | "relu+V" | "linear"];

const CASES: Case[] = [
  ["5×5 valid, one input channel (conv1's shape)", 61, [30, 12, 12, 1], 6, { kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" }, "relu"],
  ["3×2 same stride 2, upper bound V", 62, [6, 9, 8, 3], 4, { kh: 3, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, padding: "same" }, "relu+V"],
  ["3×3 same dilation 2, linear", 63, [5, 8, 8, 2], 3, { kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, padding: "same" }, "linear"],
  // N̄ = 401: 653 rows per gathered block, P = 800: two blocks of samples.
  ["5×5 valid, 16 channels, two blocks", 64, [8, 14, 14, 16], 5, { kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" }, "relu"],
];

function problem([, seed, inShape, cout, c, kind]: Case) {
  const p = randomConvLayer(seed, inShape, cout, c, { linear: kind === "linear", zeroInputs: 0.3 });
  const options: ConvLayerOptions = {
    kind: kind === "linear" ? "linear" : "relu", epsilonGain: 0.1,
    kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw],
    ...(kind === "relu+V" ? { upperBound: { data: p.output.map((y, i) => (y > 0 ? 0 : 0.05 * ((i % 7) - 3))), shape: p.outShape } } : {}),
  };
  return { p, options, input: { data: p.input, shape: p.inShape }, output: { data: p.output, shape: p.outShape } };
}

describe("pruneConvLayer with threads", () => {
  it.each(CASES)("%s: 1, 2 and 3 threads give the single-thread SIMD build's bits", async (...c) => {
    const { p, options, input, output } = problem(c);
    const single = await pruneConvLayerWith(await instantiate(await compileModule(true)), input, output, options);
    expect(single.status).toMatch(/^solved/);
    expect(single.info.threads).toBe(1);
    for (const threads of [1, 2, 3]) {
      const r = await pruneConvLayer(input, output, { ...options, threads });
      expect(r.info.threads).toBe(threads);
      expect(r.info.threadsReason).toBeUndefined();
      expectSameBits(single, r);
    }
    // The returned kernel does what info says (measured by the test's own convolution).
    const [, , , cout, conv, kind] = c;
    const { out } = naiveConv(p.input, p.inShape, single.weights, single.bias, cout, conv);
    let err = 0;
    for (let i = 0; i < out.length; i++) err += ((kind === "linear" ? out[i] : Math.max(out[i], 0)) - p.output[i]) ** 2;
    expect(Math.abs(Math.sqrt(err) - single.info.outputError)).toBeLessThan(1e-4 * Math.sqrt(err) + 1e-7);
  });

  it("the CG W-update runs on one thread, says why, and gives the one-thread bits", async () => {
    const { options, input, output } = problem(CASES[1]);
    const one = await pruneConvLayer(input, output, { ...options, wUpdate: "cg" });
    const r = await pruneConvLayer(input, output, { ...options, wUpdate: "cg", threads: 2 });
    expect(r.info.threads).toBe(1);
    expect(r.info.threadsReason).toBe("the CG W-update runs on one thread (only the factored W-update is split over threads)");
    expectSameBits(one, r);
  });

  it("pruneConvLayerWith (a given instance) runs one thread and says why", async () => {
    const { options, input, output } = problem(CASES[2]);
    const r = await pruneConvLayerWith(await instantiate(await compileModule(true)), input, output, { ...options, threads: 2 });
    expect(r.info.threads).toBe(1);
    expect(r.info.threadsReason).toContain("only pruneConvLayer runs a conv layer on several threads");
  });
});
