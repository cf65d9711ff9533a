// pruneConvLayer (operator form, with the factored and with the CG W-update) against the im2col
// unrolling solved by pruneLayer (the dense solver): the same program, so the same optimum ‖W‖₁
// within 1e-4 relative, all meeting the budget. The fit, output error and leakage are recomputed from the RETURNED kernel by the
// test's own direct convolution, and the certificate (lower bound ≤ objective) holds for both.
import { describe, expect, it } from "vitest";
import {
  compileModule, instantiate, matrix, pruneConvLayer, pruneConvLayerWith, pruneLayer, tensor, type LayerResult,
} from "../bindings/index.ts";
import { im2col, naiveConv, randomConvLayer, type ConvCase, type ConvProblem } from "./helpers/conv.ts";
import { biasUnit } from "./helpers/problems.ts";

const TIGHT = { relTol: 1e-6, dualRelTol: 1e-5, absTol: 1e-9, maxIter: 30000, feasTol: 1e-4 };

/** What the returned kernel does, measured by the test's own convolution (f64). */
function measureConv(pr: ConvProblem, c: ConvCase, r: LayerResult, linear: boolean, upper?: Float32Array) {
  const cout = pr.outShape[3];
  const { out } = naiveConv(pr.input, pr.inShape, r.weights, r.bias, cout, c);
  let fit = 0, err = 0, leak = 0;
  for (let i = 0; i < out.length; i++) {
    const y = pr.output[i], z = out[i];
    err += ((linear ? z : Math.max(z, 0)) - y) ** 2;
    if (linear || y > 0) fit += (z - y) ** 2;
    else leak = Math.max(leak, z - (upper ? upper[i] : 0));
  }
  const u = im2col(pr.input, pr.inShape, c);
  const unit = biasUnit(u.data, u.P, u.N);
  let l1 = 0;
  for (const w of r.weights) l1 += Math.abs(w);
  for (const b of r.bias) l1 += Math.abs(b) / unit;
  return { fit: Math.sqrt(fit), outputError: Math.sqrt(err), leakage: leak, l1 };
}

const LAYERS: [string, number[], number, ConvCase, boolean][] = [
  ["3×3 valid, relu", [6, 7, 7, 2], 3, { kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" }, false],
  ["3×2 same stride 2, relu", [5, 8, 7, 3], 4, { kh: 3, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, padding: "same" }, false],
  ["3×3 same dilation 2, linear", [4, 8, 8, 2], 3, { kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, padding: "same" }, true],
  // N̄ = 401: 653 patch rows per block, so P = 800 takes two blocks (sums in another order than the dense GEMM's).
  ["5×5 valid, 16 channels, two blocks, relu", [8, 14, 14, 16], 4, { kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" }, false],
  ["2×2 valid stride 2 dilation 2, relu", [6, 9, 9, 2], 2, { kh: 2, kw: 2, sh: 2, sw: 2, dh: 2, dw: 2, padding: "valid" }, false],
];

describe("pruneConvLayer against im2col + pruneLayer", () => {
  it.each(LAYERS)("%s: same optimum, both within budget", async (_name, inShape, cout, c, linear) => {
    const pr = randomConvLayer(inShape.length + cout + c.kh * 10 + c.sh, inShape, cout, c, { linear, zeroInputs: 0.3 });
    const kind = linear ? "linear" : "relu";
    const opts = { kind, epsilonGain: 0.1, ...TIGHT } as const;
    const conv = await pruneConvLayer(tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), {
      ...opts, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw],
    });
    const cg = await pruneConvLayer(tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), {
      ...opts, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw], wUpdate: "cg",
    });
    const u = im2col(pr.input, pr.inShape, c);
    const dense = await pruneLayer(matrix(u.data, u.P, u.N), matrix(pr.output, u.P, cout), { ...opts, sparseInput: false });

    expect(conv.status).toBe("solved");
    expect(cg.status).toBe("solved");
    expect(dense.status).toBe("solved");
    expect(conv.weights.length).toBe(c.kh * c.kw * inShape[3] * cout);
    const eps = conv.info.epsilon;
    for (const r of [conv, cg, dense]) {
      const m = measureConv(pr, c, r, linear);
      expect(m.fit).toBeLessThanOrEqual(eps * (1 + 1e-4));
      expect(m.leakage).toBeLessThanOrEqual(1e-4 * Math.max(...pr.output));
      // info is measured on the returned weights.
      expect(Math.abs(r.info.outputError - m.outputError)).toBeLessThan(1e-4 * m.outputError + 1e-7);
      expect(Math.abs(r.info.fitError - m.fit)).toBeLessThan(1e-4 * m.fit + 1e-7);
      expect(Math.abs(r.info.l1Norm - m.l1)).toBeLessThan(1e-5 * m.l1);
      expect(r.info.lowerBound).toBeLessThanOrEqual(m.l1 * (1 + 1e-6));
    }
    expect(Math.abs(conv.info.l1Norm - dense.info.l1Norm)).toBeLessThan(1e-4 * dense.info.l1Norm);
    expect(Math.abs(cg.info.l1Norm - dense.info.l1Norm)).toBeLessThan(1e-4 * dense.info.l1Norm);
    expect(conv.info.biasUnit).toBeCloseTo(dense.info.biasUnit, 5);
  });
});

describe("pruneConvLayer with an upper bound V, on the scalar build, aborted, warm-started", () => {
  const c: ConvCase = { kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, padding: "same" };
  const pr = randomConvLayer(41, [5, 7, 8, 2], 3, c, { zeroInputs: 0.2 });
  const upper = pr.output.map((y, i) => (y > 0 ? 0 : 0.05 * ((i % 7) - 3)));
  const geometry = { kernelSize: 3, strides: [1, 2], padding: "same" } as const;

  it("has the dense solver's optimum and meets V on Ω^c", async () => {
    const scalar = await instantiate(await compileModule(false));
    const opts = { epsilonGain: 0.1, ...TIGHT };
    const conv = await pruneConvLayerWith(scalar, tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), {
      ...opts, ...geometry, upperBound: tensor(upper, pr.outShape),
    });
    const u = im2col(pr.input, pr.inShape, c);
    const dense = await pruneLayer(matrix(u.data, u.P, u.N), matrix(pr.output, u.P, 3), {
      ...opts, sparseInput: false, upperBound: matrix(upper, u.P, 3),
    });
    expect(conv.info.simd).toBe(false);
    expect(conv.status).toBe("solved");
    const m = measureConv(pr, c, conv, false, upper);
    expect(m.fit).toBeLessThanOrEqual(conv.info.epsilon * (1 + 1e-4));
    expect(m.leakage).toBeLessThanOrEqual(1e-4 * Math.max(...pr.output));
    expect(Math.abs(conv.info.leakage - Math.max(m.leakage, 0))).toBeLessThan(1e-5);
    expect(Math.abs(conv.info.l1Norm - dense.info.l1Norm)).toBeLessThan(1e-4 * dense.info.l1Norm);
  });

  it("reports progress and stops on abort, its info measured on what it returns", async () => {
    const controller = new AbortController();
    let calls = 0;
    const r = await pruneConvLayer(tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), {
      ...geometry, epsilonGain: 0.01, relTol: 1e-9, dualRelTol: 1e-9, absTol: 0, maxIter: 100000, signal: controller.signal,
      onProgress: (p) => {
        calls++;
        if (p.iteration >= 50) controller.abort();
      },
    });
    expect(r.status).toBe("aborted");
    expect(r.info.iterations).toBe(50);
    expect(calls).toBe(5);
    const m = measureConv(pr, c, r, false);
    expect(Math.abs(r.info.outputError - m.outputError)).toBeLessThan(1e-4 * m.outputError);
    expect(Math.abs(r.info.l1Norm - m.l1)).toBeLessThan(1e-5 * m.l1);
  });

  it("continues from its own result (weights, bias and dual) in a few iterations", async () => {
    const x = tensor(pr.input, pr.inShape), y = tensor(pr.output, pr.outShape);
    const cold = await pruneConvLayer(x, y, { epsilonGain: 0.1, ...geometry });
    const warm = await pruneConvLayer(x, y, { epsilonGain: 0.1, ...geometry, warmStart: { weights: cold.weights, bias: cold.bias, dual: cold.dual } });
    expect(cold.info.iterations).toBeGreaterThan(20);
    expect(warm.status).toBe("solved");
    expect(warm.info.iterations).toBeLessThanOrEqual(20);
    expect(Math.abs(warm.info.l1Norm - cold.info.l1Norm)).toBeLessThan(1e-3 * cold.info.l1Norm);
  });
});
