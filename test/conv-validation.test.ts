// pruneConvLayer refuses bad arguments by name, with the expected and the received value, before
// any work; and the memory plan refuses a conv layer that cannot fit, with the numbers.
import { describe, expect, it } from "vitest";
import { OutOfMemoryError, pruneConvLayer, ShapeError, tensor, ValidationError, NonFiniteError, type Tensor } from "../bindings/index.ts";
import { convWUpdateThatFits } from "../bindings/solver/memory-check.ts";
import { estimateConvLayerBytes } from "../bindings/wasm/conv-memory-plan.ts";
import { estimateLayerBytes } from "../bindings/wasm/memory-plan.ts";
import type { ConvGeometry } from "../bindings/solver/conv-geometry.ts";

const X = tensor(new Float32Array(2 * 6 * 5 * 3).fill(0.5), [2, 6, 5, 3]);
// 3×3 valid: [2, 4, 3, Cout].
const Y = tensor(new Float32Array(2 * 4 * 3 * 4).fill(1), [2, 4, 3, 4]);
const K = { kernelSize: 3 } as const;

async function refusal(input: unknown, output: unknown, options: unknown): Promise<Error> {
  try {
    await pruneConvLayer(input as Tensor, output as Tensor, options as never);
  } catch (e) {
    return e as Error;
  }
  throw new Error("not refused");
}

describe("pruneConvLayer refuses bad arguments by name", () => {
  it.each([
    ["no options", X, Y, undefined, ValidationError, "options: expected an object with the layer's kernelSize"],
    ["no kernelSize", X, Y, {}, ValidationError, "options.kernelSize: expected the kernel size [kh, kw] (or one number), received undefined"],
    ["kernelSize 0", X, Y, { kernelSize: 0 }, ValidationError, "options.kernelSize: expected an integer from 1 to 32767 or a pair [a, b] of them (the kernels compute positions in 32-bit integers), received 0"],
    ["strides [1]", X, Y, { ...K, strides: [1] }, ValidationError, "options.strides: expected an integer from 1 to 32767 or a pair [a, b] of them (the kernels compute positions in 32-bit integers), received an array of length 1"],
    ["dilation 1.5", X, Y, { ...K, dilation: 1.5 }, ValidationError, "options.dilation: expected an integer from 1 to 32767 or a pair [a, b] of them (the kernels compute positions in 32-bit integers), received 1.5"],
    ["padding full", X, Y, { ...K, padding: "full" }, ValidationError, `options.padding: expected "same" or "valid", received "full"`],
    ["wUpdate lu", X, Y, { ...K, wUpdate: "lu" }, ValidationError, `options.wUpdate: expected "auto", "factored" or "cg", received "lu"`],
    ["sparseInput", X, Y, { ...K, sparseInput: true }, ValidationError, "options.sparseInput: expected no sparseInput for a conv layer"],
    ["an unknown option", X, Y, { ...K, kernel: 3 }, ValidationError, "options.kernel: expected one of the known options"],
    ["a kernel larger than the valid input", X, Y, { kernelSize: [3, 6] }, ValidationError,
      `options.kernelSize: expected a kernel whose dilated span (k − 1)·dilation + 1 fits the 6×5 input under "valid" padding, received "[3, 6] with dilation [1, 1] (span 3×6)"`],
    ["a dilated kernel larger than the input", X, Y, { kernelSize: 3, dilation: [3, 1] }, ValidationError, "(span 7×3)"],
    ["a flat array as input", new Float32Array(180), Y, K, ValidationError, "input: expected a {data, shape} tensor"],
    ["a rank-3 input", { data: new Float32Array(180), shape: [2, 30, 3] }, Y, K, ValidationError, "input.shape: expected four non-negative integers"],
    ["input data of the wrong length", { data: new Float32Array(179), shape: [2, 6, 5, 3] }, Y, K, ShapeError,
      "input.data has length 179 but the shape [2, 6, 5, 3] holds 180"],
    ["an Int32Array input", { data: new Int32Array(180), shape: [2, 6, 5, 3] }, Y, K, ValidationError, "input.data: expected a Float32Array or Float64Array, received a Int32Array of length 180"],
    ["a NaN in the input", { data: new Float32Array(180).fill(NaN), shape: [2, 6, 5, 3] }, Y, K, NonFiniteError, "input[0][0] is NaN"],
    ["an output of the wrong height", X, tensor(new Float32Array(2 * 5 * 3 * 4), [2, 5, 3, 4]), K, ShapeError,
      `output has shape [2, 5, 3, 4] but the convolution of the input [2, 6, 5, 3] with kernel [3, 3], strides [1, 1], dilation [1, 1] and "valid" padding gives [2, 4, 3, Cout ≥ 1]`],
    ["an output with other samples", X, tensor(new Float32Array(3 * 4 * 3 * 4), [3, 4, 3, 4]), K, ShapeError, "output has shape [3, 4, 3, 4]"],
    ["a same-padded output size for a valid layer", X, tensor(new Float32Array(2 * 6 * 5 * 4), [2, 6, 5, 4]), K, ShapeError, "gives [2, 4, 3, Cout ≥ 1]"],
    ["a valid-sized output for a strided same layer", X, Y, { ...K, padding: "same", strides: 2 }, ShapeError, `and "same" padding gives [2, 3, 3, Cout ≥ 1]`],
    ["an upper bound of another shape", X, Y, { ...K, upperBound: tensor(new Float32Array(2 * 4 * 3 * 3), [2, 4, 3, 3]) }, ShapeError,
      "options.upperBound has shape [2, 4, 3, 3] but output has [2, 4, 3, 4]"],
    ["an upper bound on a linear layer", X, Y, { ...K, kind: "linear", upperBound: Y }, ValidationError, "options.upperBound: expected no upper bound for a linear layer"],
    ["a warm start of the wrong size", X, Y, { ...K, warmStart: { weights: new Float32Array(27 * 4 - 1), bias: new Float32Array(4) } }, ShapeError,
      "options.warmStart.weights has length 107 but the layer has 27 inputs × 4 outputs = 108"],
  ])("%s", async (_name, input, output, options, type, message) => {
    const e = await refusal(input, output, options);
    expect(e).toBeInstanceOf(type);
    expect(e.message).toContain(message);
  });

  it("leaves what it was given unchanged and accepts Float64Array tensors", async () => {
    const x = new Float64Array(2 * 6 * 5 * 3).map((_, i) => Math.sin(i));
    const y = new Float64Array(2 * 4 * 3 * 2).map((_, i) => Math.max(Math.cos(i), 0));
    const xs = x.slice(), ys = y.slice();
    const r = await pruneConvLayer(tensor(x, [2, 6, 5, 3]), tensor(y, [2, 4, 3, 2]), { kernelSize: [3, 3], epsilonGain: 0.5 });
    expect(r.weights.length).toBe(3 * 3 * 3 * 2);
    expect(r.bias.length).toBe(2);
    expect(x).toEqual(xs);
    expect(y).toEqual(ys);
  });
});

describe("the conv memory plan", () => {
  const geometry = (samples: number, outC: number): ConvGeometry => ({
    samples, inH: 32, inW: 32, inC: 16, outH: 32, outW: 32, outC, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1,
  });

  it("counts the input tensor, the Gram and the P·M buffers, never the unrolling", () => {
    // 1000 samples of 32×32×16, 3×3 kernel, 64 outputs: P = 1,024,000, N̄ = 145.
    const bytes = estimateConvLayerBytes(geometry(1000, 64), false);
    const P = 1000 * 32 * 32, M = 64, NB = 145;
    const outputSide = 6 * P * M * 4 + P * M; // y, u1, u1Saved, b, z, zNext + the mask
    const slabSums = Math.ceil(P / 16) * 11 * 8; // the loop's f64 sums: 11 per slab of 16 rows
    const floor = 1000 * 32 * 32 * 16 * 4 + outputSide + NB * NB * 24 + slabSums;
    expect(bytes).toBeGreaterThan(floor);
    expect(bytes).toBeLessThan(floor + 8 * 2 ** 20);
    // The dense plan on the unrolling holds it three times (input, Xt, X): 2.2 GiB more here.
    expect(estimateLayerBytes(P, NB - 1, M, false) - bytes).toBeGreaterThan(3 * P * (NB - 1) * 4);
  });

  it("takes the factored W-update when it fits, CG when only that fits, and refuses with the numbers when neither does", () => {
    expect(convWUpdateThatFits("conv1", geometry(1000, 64), false)).toBe("factored");
    // N̄ = 5·5·2048 + 1 = 51,201: C̃ and its factors would take 58.6 GiB; CG needs no N̄×N̄ buffer.
    const wide: ConvGeometry = { ...geometry(1, 8), inC: 2048, kh: 5, kw: 5, padTop: 2, padLeft: 2 };
    expect(estimateConvLayerBytes(wide, false, "factored")).toBeGreaterThan(58 * 2 ** 30);
    expect(convWUpdateThatFits("wide", wide, false)).toBe("cg");
    expect(convWUpdateThatFits("conv1", geometry(1000, 64), false, "cg")).toBe("cg");
    let error: unknown;
    try {
      convWUpdateThatFits("conv1", geometry(4000, 64), true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutOfMemoryError);
    const oom = error as OutOfMemoryError;
    expect(oom.requiredBytes).toBe(estimateConvLayerBytes(geometry(4000, 64), true, "cg"));
    expect(oom.limitBytes).toBe(2 ** 32);
    expect(oom.message).toMatch(/^conv1 \(W-update: cg\) needs \d+\.\d\d GiB \(\d+ bytes\) of WebAssembly memory but the limit is 4\.00 GiB/);
    expect(() => convWUpdateThatFits("wide", wide, false, "factored")).toThrow(/wide \(W-update: factored\) needs 5\d\.\d\d GiB/);
  });
});
