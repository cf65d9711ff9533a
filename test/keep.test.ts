// pruneNetwork({keep}): the whole-network target (a share of all weights and biases kept, one
// gain for every layer found by bisection), counted here on the returned network; refusals.
import { describe, expect, it } from "vitest";
import { matrix, pruneNetwork, ValidationError, type DenseNetwork } from "../bindings/index.ts";
import { seededNetwork } from "./helpers/problems.ts";

const keptShare = (n: DenseNetwork) => {
  let nnz = 0, all = 0;
  for (const l of n.layers) {
    for (const v of [...l.kernel, ...l.bias]) if (v !== 0) nnz++;
    all += l.kernel.length + l.bias.length;
  }
  return nnz / all;
};

describe("pruneNetwork({keep})", () => {
  it.each([
    ["parallel", 0.3, undefined],
    ["cascade", 0.2, undefined],
    ["parallel", 0.2, { reweight: { rounds: 1 } }],
  ] as const)("%s, keep %s (layerOptions %j): the share kept, counted on the returned weights, is within 5%", async (mode, keep, layerOptions) => {
    const { network, input } = seededNetwork(61, [30, 20, 10, 4], 300);
    const r = await pruneNetwork(network, matrix(input, 300, 30), { mode, keep, workers: 0, ...(layerOptions ? { layerOptions } : {}) });
    const share = keptShare(r.network);
    expect(Math.abs(share - keep)).toBeLessThanOrEqual(0.05 * keep);
    expect(r.keep!.keptFraction).toBeCloseTo(share, 12);
    expect(r.keep!.target).toBe(keep);
    // The probes bracket the target: the search moved the gain both ways or hit it.
    expect(r.keep!.probes.at(-1)!.gain).toBe(r.keep!.gain);
    expect(r.keep!.probes.length).toBeGreaterThan(1);
    if (layerOptions) for (const l of r.layers) expect(l.info.reweight!.rounds.length).toBe(2);
  });

  it("refuses keep out of (0, 1] and next to a budget or a density, naming the field", async () => {
    const { network, input } = seededNetwork(62, [10, 6, 3], 50);
    const X = matrix(input, 50, 10);
    for (const [options, field] of [
      [{ keep: 0 }, "options.keep"], [{ keep: 1.5 }, "options.keep"], [{ keep: "10%" }, "options.keep"],
      [{ keep: 0.1, epsilonGain: 0.1 }, "options.epsilonGain"], [{ keep: 0.1, density: 0.1 }, "options.density"],
    ] as const) {
      const error = await pruneNetwork(network, X, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });
});
