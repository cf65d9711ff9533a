// The density-target mode: search a layer's budget ε so the pruned layer keeps a requested
// fraction of its parameters. Density falls as ε grows, so a bisection on ε (geometric, above
// the cascade floor) converges; every probe reuses the session's factor and warm-starts from
// the nearest solution found so far.
import type { LayerSession } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult } from "../types.ts";

/** A layer's options split into those fixed when its session opens and those given to each solve (budgets aside). */
export function sessionOptions(base: LayerOptions): { fixed: LayerOptions; perSolve: LayerOptions } {
  const { kind, fitBias, upperBound, activeThreshold, sparseInput, reweight, epsilon: _e, epsilonGain: _g, ...perSolve } = base;
  return { fixed: { kind, fitBias, upperBound, activeThreshold, sparseInput, reweight }, perSolve };
}

/** Probes at most this many budgets per layer. */
const MAX_DENSITY_PROBES = 14;

export async function searchDensity(
  session: LayerSession,
  density: number,
  tolerance: number,
  output: Float32Array,
  options: LayerOptions,
  epsilonFloor = 0,
): Promise<LayerResult> {
  let normY = 0;
  for (let i = 0; i < output.length; i++) normY += output[i] * output[i];
  normY = Math.sqrt(normY);
  const parameters = (r: LayerResult) => r.weights.length + (r.bias.some((b) => b !== 0) || options.fitBias !== false ? r.bias.length : 0);
  const densityOf = (r: LayerResult) => r.info.nnz / parameters(r);

  // Budgets are epsilonFloor + t, t searched geometrically in [tLow, tHigh].
  let tLow = 1e-4 * normY, tHigh = normY;
  let t = 0.05 * normY;
  let best: LayerResult | undefined;
  const probes: { t: number; r: LayerResult }[] = [];
  for (let probe = 0; probe < MAX_DENSITY_PROBES; probe++) {
    const nearest = probes.reduce<{ t: number; r: LayerResult } | undefined>((a, b) => (!a || Math.abs(Math.log(b.t / t)) < Math.abs(Math.log(a.t / t)) ? b : a), undefined);
    const r = await session.solve({
      ...options,
      epsilon: epsilonFloor + t,
      warmStart: nearest && nearest.r.status !== "numerical_error" ? { weights: nearest.r.weights, bias: nearest.r.bias, dual: nearest.r.dual } : undefined,
    });
    if (r.status === "aborted") return r;
    probes.push({ t, r });
    const d = densityOf(r);
    if (!best || Math.abs(d - density) < Math.abs(densityOf(best) - density)) best = r;
    if (Math.abs(d - density) <= tolerance * density) break;
    if (d > density) tLow = t; // too dense: a larger budget
    else tHigh = t;
    t = Math.sqrt(tLow * tHigh);
  }
  return best!;
}
