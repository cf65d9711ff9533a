// Issue 12: the solver APIs' inputs. Each case here was accepted (or failed late, or raised a raw
// RangeError) before: float64 values beyond float32's range, NaN in a warm-start dual, zero
// samples, counts beyond 32 bits, warmStart null/0/false, pruneNetwork/pruneGraph/pruneConvLayer
// options not checked like pruneLayer's, and the signal rule that differed between paths.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildGraph, createLayerPool, init, LIMITS, matrix, NetTrimError, NonFiniteError, OutOfMemoryError, pruneConvLayer, pruneDepthwiseConvLayer,
  pruneGraph, pruneLayer, pruneNetwork, ValidationError, type LayerResult,
} from "../bindings/index.ts";
import { randomLayer, seededNetwork } from "./helpers/problems.ts";
import { expectOneLineError, run } from "./helpers/cli.ts";
import { npy } from "./helpers/npy.ts";

const pr = randomLayer(12, 20, 5, 3);
const X = matrix(pr.input, 20, 5);
const Y = matrix(pr.output, 20, 3);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

async function refusal(p: () => Promise<unknown>): Promise<NetTrimError> {
  let error: unknown;
  try {
    await p();
  } catch (e) {
    error = e;
  }
  expect(error, "expected a refusal").toBeInstanceOf(NetTrimError);
  return error as NetTrimError;
}

async function expectNonFinite(p: () => Promise<unknown>, field: string, row: number, col: number, value: number, overflow: boolean) {
  const e = (await refusal(p)) as NonFiniteError;
  expect(e).toBeInstanceOf(NonFiniteError);
  expect({ field: e.field, row: e.row, col: e.col, float32Overflow: e.float32Overflow }).toEqual({ field, row, col, float32Overflow: overflow });
  expect(Object.is(e.value, value)).toBe(true);
  expect(e.message).toContain(`${field}[${row}][${col}] is ${value}`);
  if (overflow) expect(e.message).toContain("beyond float32's range");
}

async function expectInvalid(p: () => Promise<unknown>, field: string, ...fragments: string[]) {
  const e = await refusal(p);
  expect(e).toBeInstanceOf(ValidationError);
  expect((e as ValidationError).field).toBe(field);
  for (const f of fragments) expect(e.message).toContain(f);
}

/** A float64 copy of `a` with `value` at flat index `at`. */
const with64 = (a: Float32Array, at: number, value: number) => {
  const b = Float64Array.from(a);
  b[at] = value;
  return b;
};

describe("finite in float32: checked on the values the solver holds, not on the float64 source", () => {
  it("1e39 in a Float64Array output, input or upper bound is refused with its index (output gave 'solved', all zeros, ε = ∞)", async () => {
    await expectNonFinite(() => pruneLayer(X, matrix(with64(pr.output, 4, 1e39), 20, 3)), "output", 1, 1, 1e39, true);
    await expectNonFinite(() => pruneLayer(matrix(with64(pr.input, 13, -1e39), 20, 5), Y), "input", 2, 3, -1e39, true);
    await expectNonFinite(() => pruneLayer(X, Y, { upperBound: matrix(with64(new Float32Array(60), 59, 1e39), 20, 3) }), "options.upperBound", 19, 2, 1e39, true);
    await expectNonFinite(() => pruneLayer([[1, 2], [3, 4e38]], [[1], [2]]), "input", 1, 1, 4e38, true);
  });
  it("the boundary is float32's: its largest value passes the check, the next float64 that rounds to Infinity does not", async () => {
    const big = 3.4028234663852886e38;
    const r = await pruneLayer(matrix(with64(pr.input, 0, big), 20, 5), Y, { maxIter: 1 });
    expect(r.weights.length).toBe(15);
    const over = 3.4028235677973366e38; // 2¹²⁸ − 2¹⁰³: the midpoint, rounds to Infinity
    expect(Math.fround(over)).toBe(Infinity);
    await expectNonFinite(() => pruneLayer(matrix(with64(pr.input, 0, over), 20, 5), Y), "input", 0, 0, over, true);
  });
  it("a warm start's weights and bias beyond float32, and NaN or ∞ in its dual (not checked at all before)", async () => {
    const r = await pruneLayer(X, Y, { maxIter: 30 });
    const warm = { weights: r.weights, bias: r.bias, dual: r.dual };
    await expectNonFinite(() => pruneLayer(X, Y, { warmStart: { ...warm, weights: with64(r.weights, 7, 1e39) } }), "options.warmStart.weights", 2, 1, 1e39, true);
    await expectNonFinite(() => pruneLayer(X, Y, { warmStart: { ...warm, bias: with64(r.bias, 2, -1e40) } }), "options.warmStart.bias", 0, 2, -1e40, true);
    const u1 = r.dual.u1.slice();
    u1[5] = NaN;
    await expectNonFinite(() => pruneLayer(X, Y, { warmStart: { ...warm, dual: { ...r.dual, u1 } } }), "options.warmStart.dual.u1", 1, 2, NaN, false);
    const u2 = r.dual.u2.slice();
    u2[0] = -Infinity;
    await expectNonFinite(() => pruneLayer(X, Y, { warmStart: { ...warm, dual: { ...r.dual, u2 } } }), "options.warmStart.dual.u2", 0, 0, -Infinity, false);
  });
  it("the same for pruneConvLayer, pruneDepthwiseConvLayer, pruneNetwork and pruneGraph inputs, and a network's weights", async () => {
    const x = new Float64Array(2 * 4 * 4 * 2).fill(0.5);
    x[37] = 1e39;
    const y = { data: new Float32Array(2 * 3 * 3 * 2).fill(1), shape: [2, 3, 3, 2] };
    await expectNonFinite(() => pruneConvLayer({ data: x, shape: [2, 4, 4, 2] }, y, { kernelSize: 2 }), "input", 1, 5, 1e39, true);
    await expectNonFinite(() => pruneDepthwiseConvLayer({ data: x, shape: [2, 4, 4, 2] }, y, { kernelSize: 2 }), "input", 1, 5, 1e39, true);

    const { network, input } = seededNetwork(3, [6, 5, 2], 10);
    await expectNonFinite(() => pruneNetwork(network, matrix(with64(input, 8, 1e39), 10, 6), { workers: 0 }), "input", 1, 2, 1e39, true);
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [6] },
      { name: "d", op: "dense", inputs: ["x"], units: 5, activation: "relu", kernel: network.layers[0].kernel, bias: network.layers[0].bias },
    ], ["x"], ["d"]);
    await expectNonFinite(() => pruneGraph(graph, { data: with64(input, 8, 1e39), shape: [10, 6] }), "input", 1, 2, 1e39, true);
    await expectNonFinite(() => pruneGraph(graph, matrix(with64(input, 8, 1e39), 10, 6)), "input", 1, 2, 1e39, true);

    const kernel = network.layers[1].kernel.slice();
    kernel[3] = NaN;
    const broken = { ...network, layers: [network.layers[0], { ...network.layers[1], kernel }] };
    await expectNonFinite(() => pruneNetwork(broken, matrix(input, 10, 6), { workers: 0 }), "network.layers[1].kernel", 1, 1, NaN, false);
  });
});

describe("at least one sample; absurd sizes refused with the numbers, never a RangeError or a huge zero array", () => {
  it("pruneLayer with 0 rows (it returned 'solved' and zeros), at any width", async () => {
    for (const cols of [5, 2 ** 28, 1e12]) {
      await expectInvalid(() => pruneLayer({ data: new Float32Array(0), rows: 0, cols }, { data: new Float32Array(0), rows: 0, cols: 3 }), "input.rows", "at least 1 calibration sample", "received 0");
    }
    await expectInvalid(() => pruneLayer([], []), "input.rows", "at least 1");
  });
  it("a layer whose weights alone exceed WebAssembly memory, even when the zero answer fits the budget", async () => {
    // One sample, 65536 inputs, 65536 outputs all zero: W = 0 meets the budget, but the answer
    // is 2³² weights (16 GiB); this allocated them (or raised a RangeError).
    const e = await refusal(() => pruneLayer(matrix(new Float32Array(65536).fill(1), 1, 65536), matrix(new Float32Array(65536), 1, 65536)));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toContain("65536 inputs and 65536 outputs");
    expect((e as OutOfMemoryError).requiredBytes).toBe(6 * 65537 * 65536 * 4);
  });
  it("pruneNetwork, pruneGraph (tensor or matrix), pruneConvLayer and the depthwise layer with 0 samples", async () => {
    const { network } = seededNetwork(3, [6, 5, 2], 10);
    await expectInvalid(() => pruneNetwork(network, matrix(new Float32Array(0), 0, 6), { workers: 0 }), "input.rows", "at least 1");
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [6] },
      { name: "d", op: "dense", inputs: ["x"], units: 5, activation: "relu", kernel: network.layers[0].kernel, bias: network.layers[0].bias },
    ], ["x"], ["d"]);
    await expectInvalid(() => pruneGraph(graph, { data: new Float32Array(0), shape: [0, 6] }), "input.shape[0]", "at least 1");
    await expectInvalid(() => pruneGraph(graph, matrix(new Float32Array(0), 0, 6)), "input.rows", "at least 1");
    const empty = (c: number) => ({ data: new Float32Array(0), shape: [0, 4, 4, c] });
    await expectInvalid(() => pruneConvLayer(empty(2), { data: new Float32Array(0), shape: [0, 3, 3, 2] }, { kernelSize: 2 }), "input.shape[0]", "at least 1");
    await expectInvalid(() => pruneDepthwiseConvLayer(empty(2), { data: new Float32Array(0), shape: [0, 3, 3, 2] }, { kernelSize: 2 }), "input.shape[0]", "at least 1");
  });
  it("the CLI with a (0, 784) .npy: exit 1 naming the file, nothing written", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-zero-"));
    try {
      const calib = path.join(dir, "empty.npy");
      fs.writeFileSync(calib, npy(new Float32Array(0), 0, 784));
      const out = path.join(dir, "out");
      const r = await run(["prune", "models/mnist-mlp/model.json", "-c", calib, "-o", out]);
      expectOneLineError(r, 1, "empty.npy", "at least 1 sample", "received 0");
      expect(fs.existsSync(path.join(out, "model.json"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("counts beyond 32 bits are refused, naming the bound", () => {
  it("maxIter and checkInterval (2³² + 5 reported 4,294,967,301 iterations after 5; 2³¹ ended numerical_error with none)", async () => {
    const bound = String(LIMITS.maxIter);
    expect(LIMITS.maxIter).toBe(2 ** 31 - 1);
    await expectInvalid(() => pruneLayer(X, Y, { maxIter: 2 ** 32 + 5, checkInterval: 5 }), "options.maxIter", bound, "32-bit");
    await expectInvalid(() => pruneLayer(X, Y, { maxIter: 2 ** 31 }), "options.maxIter", bound);
    await expectInvalid(() => pruneLayer(X, Y, { checkInterval: 2 ** 33 }), "options.checkInterval", bound);
    await expectInvalid(() => pruneLayer(X, Y, { checkInterval: 2 ** 31 }), "options.checkInterval", bound);
    await expectInvalid(() => pruneLayer(X, Y, { maxIter: 1e300 }), "options.maxIter", bound);
  });
  it("the bound itself is a working cap: the same solve as the default cap when it converges first", async () => {
    const a = await pruneLayer(X, Y, { maxIter: LIMITS.maxIter });
    const b = await pruneLayer(X, Y);
    expect(a.status).toBe("solved");
    expect(a.info.iterations).toBe(b.info.iterations);
    expect(bits(a.weights)).toEqual(bits(b.weights));
  });
  it("threads, workers, the pool's size and cancelGraceMs, and the layer options a driver passes on", async () => {
    const { network, input } = seededNetwork(3, [6, 5, 2], 10);
    const x = matrix(input, 10, 6);
    await expectInvalid(() => pruneLayer(X, Y, { threads: 257 }), "options.threads", "256");
    await expectInvalid(() => pruneNetwork(network, x, { workers: 257 }), "options.workers", "from 0 to 256");
    await expectInvalid(() => pruneNetwork(network, x, { workers: 2 ** 32 }), "options.workers", "from 0 to 256");
    await expectInvalid(() => createLayerPool({ size: 1e9 }), "options.size", "from 1 to 256");
    await expectInvalid(() => createLayerPool({ cancelGraceMs: 2 ** 31 }), "options.cancelGraceMs", String(2 ** 31 - 1));
    await expectInvalid(() => pruneNetwork(network, x, { workers: 2, layerOptions: { maxIter: 2 ** 31 } }), "options.layerOptions.maxIter", String(LIMITS.maxIter));
  });
  it("a conv layer's kernelSize, strides and dilation (a dilation of 2³² + 1 ran as 1, silently)", async () => {
    const x = { data: new Float32Array(2 * 5 * 5).map((_, i) => Math.sin(i * 1.7)), shape: [2, 5, 5, 1] };
    const y = { data: new Float32Array(2 * 5 * 5).map((_, i) => Math.max(0, Math.cos(i * 0.9))), shape: [2, 5, 5, 1] };
    const same = { kernelSize: 3, padding: "same" as const, maxIter: 50 };
    await expectInvalid(() => pruneConvLayer(x, y, { ...same, dilation: 2 ** 32 + 1 }), "options.dilation", String(LIMITS.convWindow));
    await expectInvalid(() => pruneConvLayer(x, y, { ...same, strides: [1, 2 ** 31] }), "options.strides", String(LIMITS.convWindow));
    await expectInvalid(() => pruneConvLayer(x, y, { ...same, kernelSize: 1e300 }), "options.kernelSize", String(LIMITS.convWindow));
    // At the bound the geometry is still computed right: with "same" padding every tap but the
    // centre falls in the padding, for a dilation of 100 as for 32767.
    const a = await pruneConvLayer(x, y, { ...same, dilation: LIMITS.convWindow });
    const b = await pruneConvLayer(x, y, { ...same, dilation: 100 });
    expect(bits(a.weights)).toEqual(bits(b.weights));
    expect(Array.from(a.weights).filter((w, k) => k !== 4 && w !== 0)).toEqual([]);
  });
  it("pruneGraph: a conv node beyond that bound is refused by name before any work (not as options.dilation mid-run)", async () => {
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [5, 5, 1] },
      { name: "c1", op: "conv2d", inputs: ["x"], filters: 1, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 1], activation: "relu", kernel: new Float32Array(9).fill(0.1), bias: null },
      { name: "c2", op: "conv2d", inputs: ["c1"], filters: 1, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 40_000], activation: "relu", kernel: new Float32Array(9).fill(0.1), bias: null },
    ], ["x"], ["c2"]);
    const progress: string[] = [];
    const e = await refusal(() => pruneGraph(graph, { data: new Float32Array(2 * 25).fill(1), shape: [2, 5, 5, 1] }, { onProgress: (p) => progress.push(p.name) }));
    expect(e.message).toContain(`node "c2" (conv2d): dilation: expected integers from 1 to ${LIMITS.convWindow}`);
    expect(e.message).toContain("received [1, 40000]");
    expect(progress).toEqual([]);
  });
  it("the CLI's --max-iter and --workers: a usage error naming the bound", async () => {
    const base = ["prune", "models/mnist-mlp/model.json", "-c", "nowhere.npy", "-o", path.join(os.tmpdir(), "net-trim-never")];
    expectOneLineError(await run([...base, "--max-iter", String(2 ** 32 + 5)]), 2, "--max-iter", String(LIMITS.maxIter), "4294967301");
    expectOneLineError(await run([...base, "--workers", "1000"]), 2, "--workers", "from 0 to 256");
  }, 60_000);
});

describe("warmStart: undefined means none; anything else must be a warm start", () => {
  it("null, 0, false, an array and a string are refused alike (null, 0, false were ignored)", async () => {
    for (const w of [null, 0, false, [], "abc"]) {
      await expectInvalid(() => pruneLayer(X, Y, { warmStart: w as never }), "options.warmStart", "{weights, bias, dual?}");
    }
  });
  it("undefined is no warm start: the same bits as leaving it out", async () => {
    const a: LayerResult = await pruneLayer(X, Y, { warmStart: undefined });
    const b = await pruneLayer(X, Y);
    expect(bits(a.weights)).toEqual(bits(b.weights));
  });
});

describe("pruneNetwork, pruneGraph, pruneConvLayer and the pool check options like pruneLayer", () => {
  const { network, input } = seededNetwork(3, [6, 5, 2], 10);
  const x = matrix(input, 10, 6);
  const graph = buildGraph([
    { name: "x", op: "input", inputs: [], shape: [6] },
    { name: "d", op: "dense", inputs: ["x"], units: 5, activation: "relu", kernel: network.layers[0].kernel, bias: network.layers[0].bias },
  ], ["x"], ["d"]);

  it("an unknown name is refused with the nearest known one (epsilon_gain ran with the default 0.05)", async () => {
    await expectInvalid(() => pruneNetwork(network, x, { epsilon_gain: 0.5, workers: 0 } as never), "options.epsilon_gain", `did you mean "epsilonGain"?`);
    await expectInvalid(() => pruneGraph(graph, x, { epsilon_gain: 0.5 } as never), "options.epsilon_gain", `did you mean "epsilonGain"?`);
    await expectInvalid(() => pruneLayer(X, Y, { maxIters: 5 } as never), "options.maxIters", `did you mean "maxIter"?`);
    await expectInvalid(() => pruneLayer(X, Y, { epsilonGian: 0.1 } as never), "options.epsilonGian", `did you mean "epsilonGain"?`);
    const t = { data: new Float32Array(2 * 4 * 4), shape: [2, 4, 4, 1] };
    await expectInvalid(() => pruneConvLayer(t, t, { kernel_size: 1 } as never), "options.kernel_size", `did you mean "kernelSize"?`);
    await expectInvalid(() => pruneNetwork(network, x, { layerOptions: { maxIterr: 5 } } as never), "options.layerOptions.maxIterr", `did you mean "maxIter"?`);
    await expectInvalid(() => pruneGraph(graph, x, { layerOptions: { rho_: 2 } } as never), "options.layerOptions.rho_", `did you mean "rho"?`);
    await expectInvalid(() => createLayerPool({ sise: 2 } as never), "options.sise", `did you mean "size"?`);
    await expectInvalid(async () => init({ simdd: true } as never), "init options.simdd", `did you mean "simd"?`);
    // Nothing near: no suggestion, the known names listed.
    const e = await refusal(() => pruneNetwork(network, x, { completelyDifferent: 1 } as never));
    expect(e.message).not.toContain("did you mean");
    expect(e.message).toContain("mode, epsilonGain");
  });
  it("workers that are not an integer name options.workers, not the pool's options.size", async () => {
    await expectInvalid(() => pruneNetwork(network, x, { workers: "two" } as never), "options.workers", "received \"two\"");
    await expectInvalid(() => pruneNetwork(network, x, { workers: 2.5 }), "options.workers", "received 2.5");
  });
  it("layer values a driver passes on are checked up front, by their path (bad values reached the worker)", async () => {
    await expectInvalid(() => pruneNetwork(network, x, { workers: 2, layerOptions: { alpha: 3 } }), "options.layerOptions.alpha");
    await expectInvalid(() => pruneGraph(graph, x, { layerOptions: { relTol: -1 } }), "options.layerOptions.relTol");
    await expectInvalid(() => pruneNetwork(network, x, { workers: 2, epsilonGain: [0.1, NaN] }), "options.epsilonGain[1]");
    await expectInvalid(() => pruneNetwork(network, x, { density: 0.5, densityTolerance: -1 }), "options.densityTolerance");
  });
  it("one signal rule: a stand-in {aborted: false} is refused on every path, by the same name", async () => {
    const standIn = { aborted: false } as unknown as AbortSignal;
    for (const workers of [0, 2]) await expectInvalid(() => pruneNetwork(network, x, { workers, signal: standIn }), "options.signal", "addEventListener");
    await expectInvalid(() => pruneLayer(X, Y, { signal: standIn }), "options.signal", "addEventListener");
    await expectInvalid(() => pruneGraph(graph, x, { signal: standIn }), "options.signal", "addEventListener");
    const pool = await createLayerPool({ size: 1 });
    try {
      await expectInvalid(() => pool.solve({ input: X, output: Y }, { signal: standIn }), "hooks.signal", "addEventListener");
    } finally {
      await pool.close();
    }
  });
  it("an object of AbortSignal's shape (another realm's, a polyfill) is accepted on every path, and aborts", async () => {
    const shaped = () => Object.assign(new EventTarget(), { aborted: false }) as unknown as AbortSignal;
    const inThread = await pruneNetwork(network, x, { workers: 0, signal: shaped() });
    const pooled = await pruneNetwork(network, x, { workers: 2, signal: shaped() });
    expect(inThread.execution.inThread).toBe(true);
    expect(pooled.execution.workers).toBe(2);
    for (let i = 0; i < 2; i++) expect(bits(pooled.network.layers[i].kernel)).toEqual(bits(inThread.network.layers[i].kernel));
    const aborted = Object.assign(new EventTarget(), { aborted: true }) as unknown as AbortSignal;
    expect((await pruneLayer(X, Y, { signal: aborted })).status).toBe("aborted");
  });
});
