// pruneNetwork({keep}) per layer with reweighting: the ladders are plain ℓ1, only the states the
// search visits are reweighted, and near where it lands the walk runs again on the reweighted
// solves (the re-walk). Every solve is counted here, by wrapping the layer sessions the
// allocation opens (not by the allocation's own record), with the weights it returned; the ADMM
// solves each one ran are read from its result (1 plain, 1 + rounds reweighted).
import { describe, expect, it, vi } from "vitest";
import type { LayerResult } from "../bindings/types.ts";
import type { PerLayerKeep } from "../bindings/network/types.ts";

interface Call { units: number; gain: number; reweighted: boolean; admmSolves: number; weights: Float32Array; bias: Float32Array; warm?: Float32Array }
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
            units, gain: options!.epsilonGain!, reweighted: rounds !== undefined, admmSolves: rounds ?? 1, weights: r.weights, bias: r.bias, warm: options!.warmStart?.weights as Float32Array | undefined,
          });
          return r;
        },
      };
    },
  };
});

const { matrix, NETWORK_REWEIGHT, pruneNetwork } = await import("../bindings/index.ts");
const { seededNetwork } = await import("./helpers/problems.ts");
const { norm, signals } = await import("./helpers/naive-forward.ts");

const P = 300;
const { network, input } = seededNetwork(61, [30, 20, 10, 4], P);
const { allocateKeep } = await import("../bindings/network/keep-allocation.ts");
/** pruneNetwork({keep: 0.15}) reweighted, or allocateKeep with one of its schemes (the re-walk is not the default). */
const run = async (walk?: "local-rewalk") => {
  calls.length = 0;
  const options = { workers: 0, layerOptions: { reweight: NETWORK_REWEIGHT } };
  const r = walk ? await allocateKeep(network, input, P, 0.15, options, walk) : await pruneNetwork(network, matrix(input, P, 30), { keep: 0.15, ...options });
  if (r.keep?.allocation !== "per-layer") throw new Error("expected the per-layer allocation");
  return { r, keep: r.keep, calls: [...calls] };
};
const nonzeros = (c: Call) => [...c.weights, ...c.bias].filter((v) => v !== 0).length;

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

  it("walks again on the reweighted solves: each rung reweighted once, every state's count and error recomputed from them, every move the least error per weight removed", async () => {
    const { r, keep, calls } = await run("local-rewalk");
    const layerOf = (c: Call) => network.layers.findIndex((l) => l.units === c.units);
    const onLadder = (c: Call) => keep.ladders[layerOf(c)].some((rung) => rung.gain === c.gain);
    const reweighted = calls.filter((c) => c.reweighted);
    // The solves: one reweighted solve per layer and ladder gain the search or the re-walk needed,
    // and the bisection's probes off the ladder, all of one layer.
    const atRungs = reweighted.filter(onLadder);
    expect(new Set(atRungs.map((c) => `${layerOf(c)}@${c.gain}`)).size).toBe(atRungs.length);
    const bisection = reweighted.filter((c) => !onLadder(c));
    expect(new Set(bisection.map(layerOf)).size).toBeLessThanOrEqual(1);
    expect(bisection.length).toBeLessThanOrEqual(8);
    expect(checkWarmStarts(keep, calls)).toBeGreaterThan(0);
    const solveAt = (i: number, gain: number) => {
      const c = atRungs.find((a) => layerOf(a) === i && a.gain === gain);
      if (!c) throw new Error(`layer ${i} at gain ${gain}: never reweighted, but the re-walk used it`);
      return c;
    };

    // The re-walk moved, one layer a step, every state's count and error measured on the reweighted weights.
    const states = keep.rewalk;
    expect(states.length).toBeGreaterThan(2);
    const total = network.layers.reduce((s, l) => s + l.kernel.length + l.bias.length, 0);
    const logits = signals(network, input, P)[network.layers.length - 1];
    const measure = (gains: number[]) => {
      const layers = gains.map((g, i) => solveAt(i, g));
      const pruned = { ...network, layers: network.layers.map((l, i) => ({ ...l, kernel: layers[i].weights, bias: layers[i].bias })) };
      return { kept: layers.reduce((s, c) => s + nonzeros(c), 0), error: norm(signals(pruned, input, P).at(-1)!, logits) / norm(logits) };
    };
    const measured = states.map((s) => measure(s.gains));
    states.forEach((s, k) => {
      expect(Math.round(s.keptFraction * total)).toBe(measured[k].kept);
      expect(s.relativeLogitError).toBeCloseTo(measured[k].error, 5);
    });
    for (let k = 1; k < states.length; k++) {
      const moved = states[k].gains.flatMap((g, i) => (g !== states[k - 1].gains[i] ? [i] : []));
      expect(moved.length).toBe(1);
      // Greedy on the reweighted solves: no other layer's next rung (the first up its ladder that
      // keeps fewer weights) adds less error per weight removed.
      const ratio = (next: ReturnType<typeof measure>) => (next.error - measured[k - 1].error) / (measured[k - 1].kept - next.kept);
      const chosen = ratio(measured[k]);
      for (let i = 0; i < network.layers.length; i++) {
        if (i === moved[0]) continue;
        const here = solveAt(i, states[k - 1].gains[i]);
        const next = keep.ladders[i].map((rung) => rung.gain).filter((g) => g > here.gain).find((g) => nonzeros(solveAt(i, g)) < nonzeros(here));
        if (next !== undefined) expect(ratio(measure(states[k - 1].gains.map((g, j) => (j === i ? next : g))))).toBeGreaterThanOrEqual(chosen - 1e-9);
      }
    }
    // The re-walk ends at the first state that keeps at most the target; the returned network is
    // its last state at or above the target, or the next, with the moved layer's gain bisected between them.
    const target = 0.15 * total;
    expect(measured.at(-1)!.kept).toBeLessThanOrEqual(target);
    expect(measured.at(-2)!.kept).toBeGreaterThan(target);
    const [before, after] = [states.at(-2)!.gains, states.at(-1)!.gains];
    keep.gains.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(before[i]));
    keep.gains.forEach((g, i) => expect(g).toBeLessThanOrEqual(after[i]));
    const kept = r.network.layers.reduce((s, l) => s + [...l.kernel, ...l.bias].filter((v) => v !== 0).length, 0);
    expect(kept / total).toBeCloseTo(keep.keptFraction, 12);
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
