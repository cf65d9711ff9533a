// The density-target mode: search a layer's budget ε so the pruned layer keeps a requested
// fraction of its parameters. Density falls as ε grows, so a bisection on ε (geometric, above
// the cascade floor) converges; every probe reuses the session's factor and warm-starts from
// the nearest solution found so far. searchBudget is the search itself, over any solve (a
// DepthwiseConv2D node's, whose channels are solved apart, uses it without a session).
import type { LayerSession } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult } from "../types.ts";

/** A layer's options split into those fixed when its session opens and those given to each solve (budgets aside). */
export function sessionOptions(base: LayerOptions): { fixed: LayerOptions; perSolve: LayerOptions } {
  const { kind, fitBias, upperBound, activeThreshold, sparseInput, reweight, epsilon: _e, epsilonGain: _g, ...perSolve } = base;
  return { fixed: { kind, fitBias, upperBound, activeThreshold, sparseInput, reweight }, perSolve };
}

/** Probes at most this many budgets per layer. */
const MAX_DENSITY_PROBES = 14;

/** What the search needs of a solve's result. */
interface DensityProbe {
  status: LayerResult["status"];
  weights: Float32Array;
  bias: Float32Array;
  nnz: number;
}

/**
 * Solves at budgets epsilonFloor + t, t bisected geometrically in [1e-4, 1]·‖Y‖ (first 0.05·‖Y‖),
 * until the kept share of the parameters (bias counted when fitted or nonzero) is within
 * tolerance·density of `density` or MAX_DENSITY_PROBES ran; returns the probe closest to the
 * target (an aborted probe at once). `solve` gets the budget and the probe nearest to it in t.
 */
export async function searchBudget<R extends DensityProbe>(
  normY: number,
  density: number,
  tolerance: number,
  fitBias: boolean,
  epsilonFloor: number,
  solve: (epsilon: number, nearest: R | undefined) => Promise<R>,
): Promise<R> {
  const parameters = (r: R) => r.weights.length + (r.bias.some((b) => b !== 0) || fitBias ? r.bias.length : 0);
  const densityOf = (r: R) => r.nnz / parameters(r);

  // Budgets are epsilonFloor + t, t searched geometrically in [tLow, tHigh].
  let tLow = 1e-4 * normY, tHigh = normY;
  let t = 0.05 * normY;
  let best: R | undefined;
  const probes: { t: number; r: R }[] = [];
  for (let probe = 0; probe < MAX_DENSITY_PROBES; probe++) {
    const nearest = probes.reduce<{ t: number; r: R } | undefined>((a, b) => (!a || Math.abs(Math.log(b.t / t)) < Math.abs(Math.log(a.t / t)) ? b : a), undefined);
    const r = await solve(epsilonFloor + t, nearest?.r);
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

/**
 * searchBudget on a layer session, each probe warm-started from the nearest one. `fitBias`: whether
 * the bias counts as parameters when all zero (the drivers pass the layer's own: its per-solve
 * options leave fitBias to the session).
 */
export async function searchDensity(
  session: LayerSession,
  density: number,
  tolerance: number,
  output: Float32Array,
  options: LayerOptions,
  epsilonFloor = 0,
  fitBias = options.fitBias !== false,
): Promise<LayerResult> {
  let normY = 0;
  for (let i = 0; i < output.length; i++) normY += output[i] * output[i];
  normY = Math.sqrt(normY);
  const found = await searchBudget(normY, density, tolerance, fitBias, epsilonFloor, async (epsilon, nearest?: LayerResult & { nnz: number }) => {
    const r = await session.solve({
      ...options,
      epsilon,
      warmStart: nearest && nearest.status !== "numerical_error" ? { weights: nearest.weights, bias: nearest.bias, dual: nearest.dual } : undefined,
    });
    return { ...r, nnz: r.info.nnz };
  });
  const { nnz: _n, ...result } = found;
  return result;
}
