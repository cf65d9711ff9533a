// The whole-network target `keep` (pruneNetwork({keep: 0.1}): 10% of all the network's weights
// and biases kept; pruneGraph's: of its pruned nodes'), keepAllocation "common-gain": one error
// gain for every layer, found by bisection (cascade mode's way; parallel mode allocates per layer, keep-allocation.ts). The kept share falls as
// the gain grows, so a geometric bisection on the gain converges; each probe is a whole
// pruneNetwork run at that gain. The allocation across layers is therefore the one an equal
// relative error per layer gives (each layer keeps what its budget needs), not a search over
// per-layer shares.
import { ValidationError } from "../errors.ts";
import type { CommonGainKeep, NetworkOptions, NetworkResult } from "./types.ts";

/** What the search reads of a run (pruneNetwork's or pruneGraph's result): every pruned layer's count. */
type KeepRun = Pick<NetworkResult, "status"> & { layers: { nnzAfter: number; parameters: number }[] };

/** Probes at most this many gains. */
const MAX_KEEP_PROBES = 12;

/** Checks options.keep, options.keepAllocation (default: per-layer in parallel mode) and what keep cannot be combined with. */
export function checkKeep(options: NetworkOptions): { keep: number; allocation: "per-layer" | "common-gain" } {
  const keep = options.keep;
  if (typeof keep !== "number" || !(keep > 0 && keep <= 1)) throw new ValidationError("options.keep", "a fraction of all weights kept in (0, 1], e.g. 0.1", keep);
  for (const other of ["epsilonGain", "density"] as const) {
    if (options[other] !== undefined) throw new ValidationError(`options.${other}`, "no per-layer budget or density with keep (keep sets every layer's budget)", options[other]);
  }
  const cascade = options.mode === "cascade";
  const allocation = options.keepAllocation ?? (cascade ? "common-gain" : "per-layer");
  if (allocation !== "per-layer" && allocation !== "common-gain") throw new ValidationError("options.keepAllocation", `"per-layer" or "common-gain"`, allocation);
  if (cascade && allocation === "per-layer") {
    throw new ValidationError("options.keepAllocation", `"common-gain" in cascade mode (each layer is solved on the pruned layers' output, so layers cannot be laddered apart)`, allocation);
  }
  return { keep, allocation };
}

/**
 * Runs `run(gain)` for gains bisected geometrically in [1e-4, 1] (first 0.05) until the kept
 * share of all parameters is within `tolerance`·keep of `keep` or MAX_KEEP_PROBES ran, and
 * returns the run closest to the target (in share kept) with the search's record.
 */
export async function searchKeep<R extends KeepRun>(
  keep: number, tolerance: number, run: (gain: number) => Promise<R>,
): Promise<R & { keep: CommonGainKeep }> {
  let low = 1e-4, high = 1, gain = 0.05;
  const probes: CommonGainKeep["probes"] = [];
  let best: { result: R; gain: number; kept: number } | undefined;
  for (let probe = 0; probe < MAX_KEEP_PROBES; probe++) {
    const result = await run(gain);
    if (result.status === "aborted") return { ...result, keep: { allocation: "common-gain", target: keep, keptFraction: NaN, gain, probes } };
    let nnz = 0, parameters = 0;
    for (const l of result.layers) { nnz += l.nnzAfter; parameters += l.parameters; }
    const kept = parameters > 0 ? nnz / parameters : 0;
    probes.push({ gain, keptFraction: kept });
    if (!best || Math.abs(kept - keep) < Math.abs(best.kept - keep)) best = { result, gain, kept };
    if (Math.abs(kept - keep) <= tolerance * keep) break;
    if (kept > keep) low = gain; // too many weights: a larger budget
    else high = gain;
    gain = Math.sqrt(low * high);
  }
  return { ...best!.result, keep: { allocation: "common-gain", target: keep, keptFraction: best!.kept, gain: best!.gain, probes } };
}
