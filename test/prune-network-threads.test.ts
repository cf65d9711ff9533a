// pruneNetwork with options.threads: the layers solved in this thread (cascade, parallel with
// workers: 0, reweighted or not) split their iterations over the threads and return the
// one-thread run's bits; the solves that cannot (density search sessions, pool jobs) run on one
// and say why; bad counts are refused by name.
import { describe, expect, it } from "vitest";
import { pruneNetwork } from "../bindings/network/prune-network.ts";
import type { NetworkOptions, NetworkResult } from "../bindings/network/types.ts";
import { ValidationError } from "../bindings/errors.ts";
import { seededNetwork } from "./helpers/problems.ts";

const sizes = [20, 40, 30, 6];
const P = 300;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectSameBits(many: NetworkResult, one: NetworkResult) {
  expect(many.status).toBe(one.status);
  many.network.layers.forEach((l, i) => {
    expect(bits(l.kernel), `layer ${i} kernel`).toEqual(bits(one.network.layers[i].kernel));
    expect(bits(l.bias), `layer ${i} bias`).toEqual(bits(one.network.layers[i].bias));
  });
  for (const k of ["status", "nnzAfter", "epsilon", "relativeError", "iterations"] as const) {
    expect(many.layers.map((l) => l[k]), k).toEqual(one.layers.map((l) => l[k]));
  }
  expect(many.guarantee).toEqual(one.guarantee);
}

const threadsOf = (r: NetworkResult) => r.layers.map((l) => l.info!.threads);

describe("pruneNetwork with threads", () => {
  const { network, input } = seededNetwork(4, sizes, P);
  const x = { data: input, rows: P, cols: sizes[0] };
  const kept = input.slice();

  it.each<[string, NetworkOptions]>([
    ["cascade", { mode: "cascade", epsilonGain: 0.05 }],
    ["cascade, reweighted", { mode: "cascade", epsilonGain: 0.1, layerOptions: { reweight: { rounds: 2 } } }],
    ["parallel in this thread", { mode: "parallel", epsilonGain: 0.05, workers: 0 }],
  ])("%s: 2 threads per layer give the 1-thread bits", async (_, options) => {
    const one = await pruneNetwork(network, x, options);
    const two = await pruneNetwork(network, x, { ...options, threads: 2 });
    expect(one.status).toBe("solved");
    expectSameBits(two, one);
    expect(threadsOf(one)).toEqual([1, 1, 1]);
    // The ReLU layers run on 2 threads; the linear last layer may take the reduced form, which runs on one and says so.
    expect(threadsOf(two).slice(0, 2)).toEqual([2, 2]);
    const last = two.layers[2].info!;
    if (last.threads === 1) expect(last.threadsReason).toContain("reduced form");
    expect(input).toEqual(kept);
  });

  it("the density search and pool jobs run on one thread and say why", async () => {
    const searched = await pruneNetwork(network, x, { density: 0.5, threads: 2 });
    expect(threadsOf(searched)).toEqual([1, 1, 1]);
    for (const l of searched.layers) expect(l.info!.threadsReason).toContain("not pruneLayerWith, sessions or pool jobs");
    const pooled = await pruneNetwork(network, x, { epsilonGain: 0.05, workers: 2, threads: 2 });
    expect(pooled.execution.workers).toBe(2);
    expect(threadsOf(pooled)).toEqual([1, 1, 1]);
    for (const l of pooled.layers) expect(l.info!.threadsReason).toContain("not pruneLayerWith, sessions or pool jobs");
  });

  it("refuses a bad thread count by name, and threads inside layerOptions", async () => {
    for (const bad of [0, 1.5, 257, "2", null]) {
      const e = await pruneNetwork(network, x, { threads: bad as never }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as Error).message).toContain("options.threads");
      expect((e as Error).message).toContain('"auto" or an integer from 1 to 256');
    }
    const e = await pruneNetwork(network, x, { layerOptions: { threads: 2 } as never }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as Error).message).toContain("options.layerOptions.threads");
  });
});
