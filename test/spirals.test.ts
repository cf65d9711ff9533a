// The spiral data is deterministic, and the spiral table's numbers are recomputed from the
// returned weights: the pruned network's relative logit error (f64 loops of examples/spirals.ts,
// not the library's forward) must be the one pruneNetwork reports, and its nonzeros its counts.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { matrix, pruneNetwork } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { logitsOf, nonzeros, relativeDifference, SPIRAL_TEST_SEED, SPIRAL_TRAIN_SEED, spiralAccuracy, spirals } from "../examples/spirals.ts";

describe("spirals", () => {
  it("the generator gives the same points for the same seed, two interleaved arms", () => {
    const a = spirals(SPIRAL_TRAIN_SEED, 200);
    expect(spirals(SPIRAL_TRAIN_SEED, 200)).toEqual(a);
    expect(spirals(SPIRAL_TEST_SEED, 200).x).not.toEqual(a.x);
    expect(Array.from(a.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    // Each point lies near its arm: angle = 2π·1.75·r + c·π (mod 2π), for r well off the centre.
    let far = 0;
    for (let i = 0; i < 400; i++) {
      const x = a.x[2 * i], y = a.x[2 * i + 1], r = Math.hypot(x, y);
      if (r < 0.2) continue;
      const expected = 2 * Math.PI * 1.75 * r + a.labels[i] * Math.PI;
      const gap = Math.abs(Math.atan2(Math.sin(Math.atan2(y, x) - expected), Math.cos(Math.atan2(y, x) - expected)));
      if (gap > 0.6) far++;
    }
    expect(far).toBeLessThan(8);
  });

  it("the pruned spiral network's logit error and nonzeros, recomputed from its weights", async () => {
    const network = readLayersModelDir(fileURLToPath(new URL("../models/spirals-mlp/model.json", import.meta.url))).network;
    const train = spirals(SPIRAL_TRAIN_SEED, 1000);
    const P = train.labels.length;
    const before = logitsOf(network.layers, train.x, P);
    expect(spiralAccuracy(before, train.labels)).toBe(1);
    // The spiral table's program (the paper's): plain ℓ1, as bench:spirals' "cascade" row asks.
    const r = await pruneNetwork(network, matrix(train.x, P, 2), { mode: "cascade", epsilonGain: 0.005, workers: 0, layerOptions: { reweight: { rounds: 0 } } });
    const after = logitsOf(r.network.layers, train.x, P);
    const error = relativeDifference(after, before);
    expect(Math.abs(error - r.guarantee.relativeError)).toBeLessThan(1e-5 * error);
    expect(error).toBeGreaterThan(0.01);
    expect(error).toBeLessThan(0.2);
    expect(spiralAccuracy(after, train.labels)).toBeGreaterThan(0.99);
    r.network.layers.forEach((l, i) => expect(nonzeros(l.kernel) + nonzeros(l.bias)).toBe(r.layers[i].nnzAfter));
    expect(nonzeros(r.network.layers[1].kernel)).toBeLessThan(10000); // of 40,000
    expect(network.layers[1].kernel.every((v) => v !== 0)).toBe(true); // the input is not modified
  });
});
