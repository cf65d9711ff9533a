// The end-to-end measurement of pruneNetwork reuses the layer outputs a run computed on the way
// (and runs a pruned layer with its zero weights skipped): the measured errors must still be
// those of the returned weights, recomputed here with naive loops.
import { describe, expect, it } from "vitest";
import { applyLayer, applyPrunedLayer } from "../bindings/network/forward.ts";
import { compareSignals } from "../bindings/network/guarantee.ts";
import { pruneNetwork } from "../bindings/network/prune-network.ts";
import type { DenseLayerSpec, DenseNetwork } from "../bindings/network/network.ts";
import { forward, gaussian, networkSignals, rng, seededNetwork } from "./helpers/problems.ts";

const P = 300;
const sizes = [20, 40, 30, 6];

/** Every layer's output of `network` on `input`, and ‖a − b‖_F, with the helpers' own loops. */
const signals = (network: DenseNetwork, input: Float32Array) => networkSignals(network, input, P);
const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** A layer with ~85% zero weights, one all-zero input row and one all-zero output column. */
function sparseLayer(seed: number, N: number, M: number): DenseLayerSpec {
  const g = gaussian(seed), u = rng(seed + 1);
  const kernel = new Float32Array(N * M).map((_, k) => (Math.floor(k / M) === 2 || k % M === 1 || u() < 0.85 ? 0 : g()));
  const bias = new Float32Array(M).map(() => 0.1 * g());
  return { name: "sparse", inputs: N, units: M, kernel, bias, activation: "relu", useBias: true };
}

describe("applyPrunedLayer", () => {
  it("gives applyLayer's values with the zero weights skipped, relu and linear", () => {
    const N = 50, M = 20;
    const layer = sparseLayer(7, N, M);
    const g = gaussian(8), u = rng(9);
    const x = new Float32Array(P * N).map(() => (u() < 0.5 ? 0 : g()));
    for (const relu of [true, false]) {
      const a = applyLayer(layer, x, P, relu), b = applyPrunedLayer(layer, x, P, relu);
      let differ = 0;
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differ++; // −0 === 0: only the values
      expect(differ).toBe(0);
      // And both are the helpers' f64 forward (stored f32).
      expect(dist(b, forward(x, layer.kernel, layer.bias, P, N, M, relu))).toBeLessThan(1e-5 * Math.sqrt(a.reduce((s, v) => s + v * v, 0)));
    }
  });
});

describe("compareSignals", () => {
  it("measures the signals it is given for either network, not fresh ones", () => {
    const { network, input } = seededNetwork(4, sizes, P);
    const given = signals(network, input).map((s) => s.map((v, k) => v + (k % 3 === 0 ? 0.5 : 0)));
    const original = signals(network, input);
    const r = compareSignals(network, network, input, P, undefined, given);
    r.errors.forEach((e, i) => expect(e).toBeCloseTo(dist(given[i], original[i]), 4));
    expect(r.errors[0]).toBeGreaterThan(0); // the same network: only the given signals differ
    const swapped = compareSignals(network, network, input, P, given, undefined);
    swapped.errors.forEach((e, i) => expect(e).toBeCloseTo(dist(given[i], original[i]), 4));
  });
});

describe("pruneNetwork's measured errors are those of the returned weights", () => {
  const cases: [string, Parameters<typeof pruneNetwork>[2]][] = [
    ["parallel on the pool", { mode: "parallel", epsilonGain: 0.05, workers: 2 }],
    ["parallel in this thread", { mode: "parallel", epsilonGain: 0.05, workers: 0 }],
    ["cascade", { mode: "cascade", epsilonGain: 0.03 }],
    ["cascade, reweighted", { mode: "cascade", epsilonGain: 0.03, layerOptions: { reweight: { rounds: 2 } } }],
  ];
  for (const [name, options] of cases) {
    it(name, async () => {
      const { network, input } = seededNetwork(5, sizes, P);
      const r = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, options);
      expect(r.status).toBe("solved");
      const original = signals(network, input);
      const pruned = signals(r.network, input);
      const scale = Math.sqrt(original[2].reduce((s, v) => s + v * v, 0));
      r.guarantee.perLayer.forEach((layer, i) => {
        expect(Math.abs(layer.measured - dist(pruned[i], original[i]))).toBeLessThan(1e-5 * scale + 1e-6);
      });
      expect(r.guarantee.perLayer[2].measured).toBeGreaterThan(0);
    });
  }
});
