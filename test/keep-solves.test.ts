// pruneNetwork({keep}) per layer with reweighting: the ladders are plain ℓ1, only the states the
// search visits are reweighted. Every solve is counted here, by wrapping the layer sessions the
// allocation opens (not by the allocation's own record), with the weights it returned and the
// warm start it was given; the ADMM solves each one ran are read from its result (1 plain,
// 1 + rounds reweighted).
import { describe, expect, it, vi } from "vitest";
import type { LayerResult } from "../bindings/types.ts";
import type { PerLayerKeep } from "../bindings/network/types.ts";

interface Call { units: number; gain: number; reweighted: boolean; admmSolves: number; weights: Float32Array; warm?: Float32Array }
const calls: Call[] = [];
vi.mock("../bindings/solver/prune-layer.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../bindings/solver/prune-layer.ts")>();
  return {
    ...original,
    openLayerSession: async (...args: Parameters<typeof original.openLayerSession>) => {
      const session = await original.openLayerSession(...args);
      const units = (args[1] as { cols: number }).cols;
      return {
        close: () => session.close(),
        solve: async (options?: Parameters<typeof session.solve>[0]) => {
          const r: LayerResult = await session.solve(options);
          const rounds = r.info.reweight?.rounds.length;
          calls.push({
            units, gain: options!.epsilonGain!, reweighted: rounds !== undefined, admmSolves: rounds ?? 1, weights: r.weights, warm: options!.warmStart?.weights as Float32Array | undefined,
          });
          return r;
        },
      };
    },
  };
});

const { matrix, NETWORK_REWEIGHT, pruneNetwork } = await import("../bindings/index.ts");
const { seededNetwork } = await import("./helpers/problems.ts");

const P = 300;
const { network, input } = seededNetwork(61, [30, 20, 10, 4], P);
/** pruneNetwork({keep: 0.15}) reweighted. */
const run = async () => {
  calls.length = 0;
  const r = await pruneNetwork(network, matrix(input, P, 30), { keep: 0.15, workers: 0, layerOptions: { reweight: NETWORK_REWEIGHT } });
  if (r.keep?.allocation !== "per-layer") throw new Error("expected the per-layer allocation");
  return { r, keep: r.keep, calls: [...calls] };
};

/** Each reweighted solve at a rung started from a reweighted solve made before it at the
 * neighbouring rung of its layer (the denser first), or else from the plain rung; returns how many had such a neighbour. */
function checkWarmStarts(keep: PerLayerKeep, calls: Call[]): number {
  const layerOf = (c: Call) => network.layers.findIndex((l) => l.units === c.units);
  const rungOf = (c: Call) => keep.ladders[layerOf(c)].findIndex((rung) => rung.gain === c.gain);
  const atRungs = calls.filter((c) => c.reweighted && rungOf(c) >= 0);
  let continued = 0;
  for (const c of atRungs) {
    const earlier = atRungs.slice(0, atRungs.indexOf(c)).filter((e) => layerOf(e) === layerOf(c));
    const neighbour = [-1, 1].map((d) => earlier.find((e) => rungOf(e) === rungOf(c) + d)).find((e) => e !== undefined);
    const plain = calls.find((p) => !p.reweighted && layerOf(p) === layerOf(c) && p.gain === c.gain)!;
    expect(c.warm).toBe((neighbour ?? plain).weights);
    if (neighbour) continued++;
  }
  return continued;
}

describe("pruneNetwork({keep}) per layer, reweighted: reweighting only where the search lands", () => {
  it("builds plain ladders, reweights a few states, and runs fewer ADMM solves than reweighting every rung would", async () => {
    const { r, keep, calls } = await run();
    const rungs = keep.ladders.reduce((s, l) => s + l.length, 0);
    const plain = calls.filter((c) => !c.reweighted);
    const reweighted = calls.filter((c) => c.reweighted);
    // Every rung of every ladder is one plain solve; the reweighted solves are the search's probes.
    expect(plain.length).toBe(rungs);
    expect(reweighted.length).toBe(keep.probes.length);
    expect(reweighted.length).toBeGreaterThanOrEqual(network.layers.length);
    expect(reweighted.length).toBeLessThan(rungs / 2);
    // The returned layers are reweighted solves, and the share is met on them.
    for (const l of r.layers) expect(l.info.reweight!.rounds.length).toBeGreaterThan(1);
    expect(Math.abs(keep.keptFraction - 0.15)).toBeLessThanOrEqual(0.05 * 0.15);
    // Every reweighted solve started from a reweighted neighbour made before it, or its plain rung.
    expect(checkWarmStarts(keep, calls)).toBeGreaterThan(0);
    // Reweighting every rung (the previous scheme) would have run 1 + rounds solves per rung.
    const admm = calls.reduce((s, c) => s + c.admmSolves, 0);
    expect(admm).toBeLessThan(0.6 * rungs * (1 + NETWORK_REWEIGHT.rounds));
  });

  it("is deterministic: the same inputs give the same weights, bit for bit, and the same solves", async () => {
    const a = await run(), b = await run();
    expect(b.calls.map((c) => [c.units, c.gain, c.reweighted])).toEqual(a.calls.map((c) => [c.units, c.gain, c.reweighted]));
    a.r.network.layers.forEach((l, i) => {
      expect(Buffer.from(b.r.network.layers[i].kernel.buffer).equals(Buffer.from(l.kernel.buffer))).toBe(true);
      expect(Buffer.from(b.r.network.layers[i].bias.buffer).equals(Buffer.from(l.bias.buffer))).toBe(true);
    });
  });
});
