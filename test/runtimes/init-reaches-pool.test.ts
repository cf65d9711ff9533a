// init({simd | module}) reaches the worker pool: the pool posts the module init compiled or was
// given, so init({simd: false}) makes every pool layer run the scalar build.
import { describe, expect, it } from "vitest";
import { compileModule, createLayerPool, init, matrix, pruneLayer, pruneNetwork, ValidationError } from "../../bindings/index.ts";
// @ts-expect-error plain JS module shared with the other runtimes
import { runScenario, scenarioNetwork } from "./scenario.mjs";

describe("init reaches the pool", () => {
  it("init({simd: false}): pruneLayer, createLayerPool and parallel pruneNetwork all run the scalar build", async () => {
    await init({ simd: false });
    const out = await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 });
    expect(out.layer.simd).toBe(false);
    expect(out.network.execution).toEqual({ workers: 2, inThread: false });
    expect(out.network.layers.map((l: { simd: boolean }) => l.simd)).toEqual([false, false, false]);
    const pool = await createLayerPool({ size: 1 });
    try {
      const r = await pool.solve({ input: matrix(new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2), output: matrix(new Float32Array([1, 0, 2]), 3, 1) });
      expect(r.info.simd).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it("init({module}) with the SIMD module: the pool reports simd again; results equal the in-thread run bit for bit", async () => {
    await init({ module: await compileModule(true) });
    const pooled = await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 });
    const here = await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 0 });
    expect(pooled.network.layers.every((l: { simd: boolean }) => l.simd)).toBe(true);
    expect(here.network.execution).toEqual({ workers: 0, inThread: true, reason: "workers: 0" });
    expect(pooled.network.hash).toBe(here.network.hash);
  });

  it("refuses a module that is not one, and a bad workers option, with a ValidationError", async () => {
    await expect(init({ module: new Uint8Array(4) as unknown as WebAssembly.Module })).rejects.toBeInstanceOf(ValidationError);
    await init(); // back to the default for the next check
    const { network, input, P } = scenarioNetwork();
    await expect(pruneNetwork(network, matrix(input, P, 20), { workers: 1.5 })).rejects.toBeInstanceOf(ValidationError);
  });
});
