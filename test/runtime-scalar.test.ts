// The runtime's scalar build (net-trim-runtime-scalar.wasm), what runs where WebAssembly SIMD is
// missing: picked when WebAssembly.validate refuses SIMD (simulated here by stubbing it, as the
// solver's tests force its scalar build), or asked for with simd: false. Its outputs must be the
// SIMD build's bit for bit, and within 1e-5 of the dense forward pass, on every kernel and tail.
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildGraph, createRuntime, forwardGraph, ValidationError, WasmUnavailableError, type GraphNodeSpec, type ModelGraph } from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { bundled, pruned, sparseValues } from "./helpers/runtime-models.ts";
import { relativeDeviation } from "./helpers/tfjs-models.ts";

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Scalar and SIMD builds, both kernels: the same bits, and within 1e-5 of forwardGraph. */
async function expectScalarSameAsSimd(graph: ModelGraph, input: (batch: number) => Float32Array, batches = [1, 5, 16]): Promise<void> {
  for (const kernels of ["sparse", "dense"] as const) {
    const scalar = await createRuntime(graph, { kernels, simd: false });
    const simd = await createRuntime(graph, { kernels, simd: true });
    expect([scalar.simd, simd.simd]).toEqual([false, true]);
    for (const batch of batches) {
      const x = input(batch);
      const got = scalar.predict(x, batch);
      expect(bits(got).equals(bits(simd.predict(x, batch))), `${kernels} kernels, batch ${batch}`).toBe(true);
      expect(relativeDeviation(got, forwardGraph(graph, [x], batch).outputs[0])).toBeLessThan(1e-5);
    }
    scalar.dispose();
    simd.dispose();
  }
}

const zerosAndValues = (n: number, seed: number) => sparseValues(n, 0.6, seed);

describe("the scalar runtime build", () => {
  afterEach(() => vi.restoreAllMocks());

  it("Dense: sizes off the SIMD width, sparse to dense, ReLU and ReLU6", async () => {
    let seed = 1;
    for (const [n, m] of [[1, 1], [7, 5], [13, 9], [33, 31], [40, 37], [5, 70]]) {
      for (const density of [0.1, 1]) {
        const activation = seed % 2 ? "relu" : "relu6";
        const graph = buildGraph([
          { name: "x", op: "input", inputs: [], shape: [n] },
          { name: "d", op: "dense", inputs: ["x"], units: m, activation, kernel: sparseValues(n * m, density, seed++), bias: sparseValues(m, 1, seed++) },
        ], ["x"], ["d"]);
        await expectScalarSameAsSimd(graph, (batch) => zerosAndValues(batch * n, seed + batch));
      }
    }
  });

  it("Conv2D (stride 1 and 2, dilation), DepthwiseConv2D, max and average pooling over 3 and 6 channels", async () => {
    let seed = 100;
    const cases = [
      { hw: [9, 7], c: 3, f: 5, k: [3, 3], s: [1, 1], d: [1, 1], padding: "same" },
      { hw: [11, 8], c: 4, f: 33, k: [3, 2], s: [2, 1], d: [1, 1], padding: "same" },
      { hw: [12, 12], c: 1, f: 6, k: [3, 3], s: [1, 2], d: [2, 2], padding: "valid" },
    ] as const;
    for (const cs of cases) {
      for (const density of [0.1, 0.6]) {
        const conv = { kernelSize: cs.k, strides: cs.s, dilation: cs.d, padding: cs.padding };
        const specs: GraphNodeSpec[] = [
          { name: "x", op: "input", inputs: [], shape: [...cs.hw, cs.c] },
          { name: "conv", op: "conv2d", inputs: ["x"], filters: cs.f, ...conv, activation: "relu", kernel: sparseValues(cs.k[0] * cs.k[1] * cs.c * cs.f, density, seed++), bias: sparseValues(cs.f, 1, seed++) },
          { name: "max", op: "maxPool2d", inputs: ["conv"], poolSize: [2, 2], strides: [1, 1], padding: "same" },
          { name: "dw", op: "depthwiseConv2d", inputs: ["max"], depthMultiplier: 2, kernelSize: [3, 3], strides: [1, 1], dilation: [1, 1], padding: "same", activation: "relu6", kernel: sparseValues(9 * cs.f * 2, density, seed++), bias: null },
          { name: "avg", op: "avgPool2d", inputs: ["dw"], poolSize: [3, 3], strides: [2, 2], padding: "same" },
        ];
        const size = cs.hw[0] * cs.hw[1] * cs.c;
        await expectScalarSameAsSimd(buildGraph(specs, ["x"], ["avg"]), (batch) => zerosAndValues(batch * size, seed + batch), [1, 3]);
      }
    }
  });

  it("the bundled MLP and CNN, pruned to 10% and dense, on MNIST digits", async () => {
    const digits = loadMnist().testX;
    for (const name of ["mnist-mlp", "mnist-cnn"]) {
      for (const fraction of [0.1, 1]) {
        await expectScalarSameAsSimd(pruned(bundled(name), fraction), (batch) => digits.subarray(0, batch * 784), [1, 20]);
      }
    }
  });

  it("is picked when WebAssembly.validate refuses SIMD (simd: \"auto\", the default)", async () => {
    const graph = pruned(bundled("mnist-mlp"), 0.1);
    const x = loadMnist().testX.subarray(0, 3 * 784);
    const withSimd = await createRuntime(graph);
    expect(withSimd.simd).toBe(true);
    const validate = vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    const without = await createRuntime(graph);
    expect(validate).toHaveBeenCalled();
    expect(without.simd).toBe(false);
    expect(bits(without.predict(x, 3)).equals(bits(withSimd.predict(x, 3)))).toBe(true);
    const forced = await createRuntime(graph, { simd: true }).then(() => undefined, (e: unknown) => e);
    expect(forced).toBeInstanceOf(WasmUnavailableError);
    expect((forced as Error).message).toMatch(/options.simd is true but this runtime does not validate WebAssembly SIMD/);
  });
});

describe("choosing the runtime module", () => {
  it("options.url: fetched (a file: URL read from disk here) and compiled", async () => {
    const graph = pruned(bundled("mnist-mlp"), 0.1);
    const x = loadMnist().testX.subarray(0, 784);
    const fromUrl = await createRuntime(graph, { url: new URL("../build/net-trim-runtime-scalar.wasm", import.meta.url) });
    expect(fromUrl.simd).toBe(false);
    expect(bits(fromUrl.predict(x, 1)).equals(bits((await createRuntime(graph)).predict(x, 1)))).toBe(true);
  });

  it("refuses a bad module, url or simd option, naming the field", async () => {
    const graph = pruned(bundled("mnist-mlp"), 0.1);
    const refused = (options: object) => createRuntime(graph, options as never).then(() => undefined, (e: unknown) => e as ValidationError);
    const cases: [object, string, RegExp][] = [
      [{ simd: "yes" }, "options.simd", /true, false or "auto"/],
      [{ url: 42 }, "options.url", /a string or URL/],
      [{ module: new Uint8Array(8) }, "options.module", /WebAssembly.Module/],
      [{ module: new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), url: "x.wasm" }, "options", /either module or url/],
    ];
    for (const [options, field, expected] of cases) {
      const e = await refused(options);
      expect(e).toBeInstanceOf(ValidationError);
      expect(e?.message).toContain(field);
      expect(e?.message).toMatch(expected);
    }
  });
});
