// pruneDepthwiseConvLayer: one conv problem per channel. The test's own depthwise convolution
// (checked against TF.js depthwiseConv2d) measures the RETURNED [kh, kw, C, multiplier] kernel:
// the whole layer within its budget, and each channel's optimum equal to the Dense solver's on
// that channel's im2col unrolling with the channel's share of ε.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { matrix, pruneDepthwiseConvLayer, pruneLayer, tensor, ValidationError } from "../bindings/index.ts";
import { im2col, type ConvCase } from "./helpers/conv.ts";
import { gaussian, rng } from "./helpers/problems.ts";

const c: ConvCase = { kh: 3, kw: 3, sh: 2, sw: 1, dh: 1, dw: 1, padding: "same" };
const inShape = [4, 7, 6, 3];
const MULT = 2;

/** Depthwise conv in f64: out[n, oy, ox, ch·mult + q] = b + Σ x[n, iy, ix, ch]·k[ky, kx, ch, q]. */
function naiveDepthwise(x: ArrayLike<number>, k: ArrayLike<number>, b: ArrayLike<number>): { out: Float64Array; shape: number[] } {
  const [n, h, w, C] = inShape;
  const ho = Math.ceil(h / c.sh), wo = Math.ceil(w / c.sw);
  const pt = Math.max(0, (ho - 1) * c.sh + c.kh - h) >> 1, pl = Math.max(0, (wo - 1) * c.sw + c.kw - w) >> 1;
  const out = new Float64Array(n * ho * wo * C * MULT);
  for (let s = 0; s < n; s++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) {
    for (let ch = 0; ch < C; ch++) for (let q = 0; q < MULT; q++) {
      let z = b[ch * MULT + q];
      for (let ky = 0; ky < c.kh; ky++) for (let kx = 0; kx < c.kw; kx++) {
        const iy = oy * c.sh - pt + ky, ix = ox * c.sw - pl + kx;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) z += x[((s * h + iy) * w + ix) * C + ch] * k[((ky * c.kw + kx) * C + ch) * MULT + q];
      }
      out[(((s * ho + oy) * wo + ox) * C + ch) * MULT + q] = z;
    }
  }
  return { out, shape: [n, ho, wo, C * MULT] };
}

describe("pruneDepthwiseConvLayer", () => {
  const g = gaussian(5), u = rng(6);
  const x = new Float32Array(inShape.reduce((a, b) => a * b, 1)).map(() => g());
  const kernel = new Float32Array(9 * 3 * MULT).map(() => (u() < 0.6 ? g() : 0));
  const bias = new Float32Array(3 * MULT).map(() => 0.1 * g());
  const pre = naiveDepthwise(x, kernel, bias);
  const y = Float32Array.from(pre.out, (z) => Math.max(z, 0));

  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("the test's depthwise convolution agrees with TF.js depthwiseConv2d within 1e-5", () => {
    const expected = tf.tidy(() => tf.add(tf.depthwiseConv2d(
      tf.tensor4d(x, inShape as [number, number, number, number]), tf.tensor4d(kernel, [3, 3, 3, MULT]), [c.sh, c.sw], "same",
    ), tf.tensor1d(bias)).dataSync());
    let worst = 0, top = 0;
    for (let i = 0; i < expected.length; i++) { worst = Math.max(worst, Math.abs(expected[i] - pre.out[i])); top = Math.max(top, Math.abs(pre.out[i])); }
    expect(expected.length).toBe(pre.out.length);
    expect(worst / top).toBeLessThan(1e-5);
  });

  it("meets the whole layer's budget, measured on the returned kernel, with each channel at the Dense solver's optimum", async () => {
    const gain = 0.1;
    const opts = { relTol: 1e-6, dualRelTol: 1e-5, absTol: 1e-9, maxIter: 30000, feasTol: 1e-4 };
    const r = await pruneDepthwiseConvLayer(tensor(x, inShape), tensor(y, pre.shape), { kernelSize: 3, strides: [2, 1], padding: "same", epsilonGain: gain, ...opts });
    expect(r.status).toBe("solved");
    expect(r.weights.length).toBe(9 * 3 * MULT);
    expect(r.channels).toHaveLength(3);

    const got = naiveDepthwise(x, r.weights, r.bias);
    let fit = 0, err = 0, leak = 0, normY = 0, nnz = 0;
    for (let i = 0; i < y.length; i++) {
      normY += y[i] ** 2;
      err += (Math.max(got.out[i], 0) - y[i]) ** 2;
      if (y[i] > 0) fit += (got.out[i] - y[i]) ** 2;
      else leak = Math.max(leak, got.out[i]);
    }
    for (const v of [...r.weights, ...r.bias]) if (v !== 0) nnz++;
    expect(Math.sqrt(fit)).toBeLessThanOrEqual(gain * Math.sqrt(normY) * (1 + 1e-4));
    expect(leak).toBeLessThan(1e-4 * Math.max(...y));
    expect(Math.abs(r.outputError - Math.sqrt(err))).toBeLessThan(1e-4 * Math.sqrt(err));
    expect(r.nnz).toBe(nnz);
    expect(nnz).toBeLessThan(r.weights.length + r.bias.length);

    // Channel ch alone: its im2col unrolling and its share of the budget, on the Dense solver.
    const [n, h, w] = inShape;
    for (let ch = 0; ch < 3; ch++) {
      const xc = new Float32Array(n * h * w).map((_, i) => x[i * 3 + ch]);
      const P = y.length / (3 * MULT);
      const yc = new Float32Array(P * MULT).map((_, i) => y[Math.floor(i / MULT) * 3 * MULT + ch * MULT + (i % MULT)]);
      const unrolled = im2col(xc, [n, h, w, 1], c);
      const normYc = Math.sqrt(yc.reduce((s, v) => s + v * v, 0));
      const dense = await pruneLayer(matrix(unrolled.data, P, 9), matrix(yc, P, MULT), { epsilon: gain * normYc, sparseInput: false, ...opts });
      expect(Math.abs(r.channels[ch].info.l1Norm - dense.info.l1Norm)).toBeLessThan(1e-4 * dense.info.l1Norm);
    }
  });

  it("refuses an output whose channels are not a multiple of the input's, and a warm start", async () => {
    const bad = tensor(new Float32Array(4 * 4 * 6 * 5), [4, 4, 6, 5]);
    await expect(pruneDepthwiseConvLayer(tensor(x, inShape), bad, { kernelSize: 3, strides: [2, 1], padding: "same" }))
      .rejects.toThrow("output.shape[3]: expected a multiple of the input's 3 channels (C·depth multiplier), received 5");
    await expect(pruneDepthwiseConvLayer(tensor(x, inShape), tensor(y, pre.shape), {
      kernelSize: 3, strides: [2, 1], padding: "same", warmStart: { weights: kernel, bias },
    })).rejects.toBeInstanceOf(ValidationError);
  });
});
