// The layer pool in real headless Chromium: module Workers started from
// new URL("./workers/entry.js", import.meta.url) (served from the .ts source by Vite), each
// instantiating the one compiled module posted to it; results equal pruneLayer in the page.
import { afterAll, describe, expect, it } from "vitest";
import { compileModule, matrix, pruneLayer, ValidationError, type LayerOptions, type LayerResult } from "../../bindings/index.ts";
import { createLayerPool, type LayerPool } from "../../bindings/workers/pool.ts";
import { randomLayer } from "../helpers/problems.ts";

function seededLayer(seed: number, P: number, N: number, M: number) {
  const p = randomLayer(seed, P, N, M);
  return { input: matrix(p.input, P, N), output: matrix(p.output, P, M) };
}

function same(a: LayerResult, b: LayerResult) {
  expect(a.status).toBe(b.status);
  expect(a.info.iterations).toBe(b.info.iterations);
  expect(Array.from(new Uint32Array(a.weights.buffer, a.weights.byteOffset, a.weights.length)))
    .toEqual(Array.from(new Uint32Array(b.weights.buffer, b.weights.byteOffset, b.weights.length)));
  expect(Array.from(new Uint32Array(a.bias.buffer, a.bias.byteOffset, a.bias.length)))
    .toEqual(Array.from(new Uint32Array(b.bias.buffer, b.bias.byteOffset, b.bias.length)));
  expect(a.info.l1Norm).toBe(b.info.l1Norm);
  expect(a.info.outputError).toBe(b.info.outputError);
}

describe("layer pool in Chromium", () => {
  let pool: LayerPool | undefined;
  afterAll(async () => {
    await pool?.close();
  });

  it("solves 2 layers at once on 2 module Workers, identical to pruneLayer in the page", async () => {
    expect(typeof Worker).toBe("function");
    pool = await createLayerPool({ size: 2, module: await compileModule() });
    const layers: { pr: ReturnType<typeof seededLayer>; options: Omit<LayerOptions, "signal" | "onProgress"> }[] = [
      { pr: seededLayer(1, 200, 24, 8), options: { epsilonGain: 0.05 } },
      { pr: seededLayer(2, 160, 20, 6), options: { epsilonGain: 0.1 } },
    ];
    const progress = [0, 0];
    const parallel = await Promise.all(
      layers.map(({ pr, options }, i) => pool!.solve({ ...pr, options }, { onProgress: () => progress[i]++ })),
    );
    for (let i = 0; i < layers.length; i++) {
      const local = await pruneLayer(layers[i].pr.input, layers[i].pr.output, layers[i].options);
      same(parallel[i], local);
      expect(parallel[i].info.simd).toBe(true);
      expect(["solved", "solved_inaccurate"]).toContain(parallel[i].status);
      expect(progress[i]).toBeGreaterThan(0);
      // The caller's arrays were copied, not transferred.
      expect(layers[i].pr.input.data.byteLength).toBeGreaterThan(0);
    }
    // Errors come back as the same class.
    const err = await pool.solve({ ...layers[0].pr, options: { nope: 1 } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe("invalid_option");
  });
});
