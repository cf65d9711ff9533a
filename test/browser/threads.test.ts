// One layer on 2 threads in real headless Chromium: the page is cross-origin isolated (COOP/COEP
// headers in vitest.config.ts), the helper thread is a module Worker, and the page's own thread
// (thread 0) may not block, so it spins at the barriers. Same bits as one thread.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer, type LayerResult } from "../../bindings/index.ts";
import { randomLayer } from "../helpers/problems.ts";

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

function same(a: LayerResult, b: LayerResult) {
  expect(b.status).toBe(a.status);
  expect(b.info.iterations).toBe(a.info.iterations);
  expect(bits(b.weights)).toEqual(bits(a.weights));
  expect(bits(b.bias)).toEqual(bits(a.bias));
  expect(b.info.primalResidual).toBe(a.info.primalResidual);
}

describe("pruneLayer with threads in Chromium", () => {
  it("the page is cross-origin isolated and may not block", () => {
    expect((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated).toBe(true);
    expect(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0)).toThrow();
  });

  it.each([
    [31, 240, 30, 6, false],
    [32, 300, 41, 5, true],
  ] as const)("seed %i: P %i, N %i, M %i, linear %s — 2 threads give the 1-thread bits", async (seed, P, N, M, linear) => {
    const p = randomLayer(seed, P, N, M, { linear, zeroInputs: linear ? 0.6 : 0 });
    const solve = (threads: number) =>
      // Linear layers on their samples: the reduced form runs on one thread.
      pruneLayer(matrix(p.input, P, N), matrix(p.output, P, M), { kind: linear ? "linear" : "relu", linearForm: linear ? "samples" : undefined, threads });
    const one = await solve(1);
    const two = await solve(2);
    expect(two.info.threads).toBe(2);
    expect(two.info.threadsReason).toBeUndefined();
    same(one, two);
  });
});
