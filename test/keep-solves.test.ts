// pruneNetwork({keep}) per layer with reweighting: the ladders are plain ℓ1 and only the states
// the search visits are reweighted. Every solve is counted here, by wrapping the layer sessions
// the allocation opens (not by the allocation's own record), and the ADMM solves each one ran are
// read from its result (1 plain, 1 + rounds reweighted).
import { describe, expect, it, vi } from "vitest";
import type { LayerResult } from "../bindings/types.ts";

const calls: { reweighted: boolean; admmSolves: number }[] = [];
vi.mock("../bindings/solver/prune-layer.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../bindings/solver/prune-layer.ts")>();
  return {
    ...original,
    openLayerSession: async (...args: Parameters<typeof original.openLayerSession>) => {
      const session = await original.openLayerSession(...args);
      return {
        close: () => session.close(),
        solve: async (options?: Parameters<typeof session.solve>[0]) => {
          const r: LayerResult = await session.solve(options);
          const rounds = r.info.reweight?.rounds.length;
          calls.push({ reweighted: rounds !== undefined, admmSolves: rounds ?? 1 });
          return r;
        },
      };
    },
  };
});

const { matrix, NETWORK_REWEIGHT, pruneNetwork } = await import("../bindings/index.ts");
const { seededNetwork } = await import("./helpers/problems.ts");

describe("pruneNetwork({keep}) per layer, reweighted: reweighting only where the search lands", () => {
  it("builds plain ladders, reweights a few states, and runs fewer ADMM solves than reweighting every rung would", async () => {
    const P = 300;
    const { network, input } = seededNetwork(61, [30, 20, 10, 4], P);
    calls.length = 0;
    const r = await pruneNetwork(network, matrix(input, P, 30), { keep: 0.15, workers: 0, layerOptions: { reweight: NETWORK_REWEIGHT } });
    if (r.keep?.allocation !== "per-layer") throw new Error("expected the per-layer allocation");
    const rungs = r.keep.ladders.reduce((s, l) => s + l.length, 0);
    const plain = calls.filter((c) => !c.reweighted);
    const reweighted = calls.filter((c) => c.reweighted);
    // Every rung of every ladder is one plain solve; the reweighted solves are the search's probes.
    expect(plain.length).toBe(rungs);
    expect(reweighted.length).toBe(r.keep.probes.length);
    expect(reweighted.length).toBeGreaterThanOrEqual(network.layers.length);
    expect(reweighted.length).toBeLessThan(rungs / 2);
    // The returned layers are reweighted solves, and the share is met on them.
    for (const l of r.layers) expect(l.info.reweight!.rounds.length).toBeGreaterThan(1);
    expect(Math.abs(r.keep.keptFraction - 0.15)).toBeLessThanOrEqual(0.05 * 0.15);
    // Reweighting every rung (the previous scheme) would have run 1 + rounds solves per rung.
    const admm = calls.reduce((s, c) => s + c.admmSolves, 0);
    expect(admm).toBeLessThan(0.6 * rungs * (1 + NETWORK_REWEIGHT.rounds));
  });
});
