// pruneNetwork's options checked before any work, as pruneLayer checks its own (validate.ts and
// option-checks.ts): unknown names refused with the nearest known one, every value by name,
// and the layer options it passes on checked here rather than inside each solve (or a worker).
import { DEFAULTS } from "../defaults.ts";
import { ValidationError } from "../errors.ts";
import { checkOptionNames, checkSignal, checkThreads } from "../option-checks.ts";
import { resolveOptions } from "../validate.ts";
import { withNetworkReweight } from "../validate-reweight.ts";
import type { NetworkLayerOptions, NetworkOptions, PruneMode } from "./types.ts";

const OPTION_NAMES = [
  "mode", "epsilonGain", "density", "densityTolerance", "gamma", "kappa", "layerOptions", "workers", "threads", "refit", "onProgress", "signal",
];
/** Set per layer by the driver, not by the user. */
const DRIVER_SET = ["kind", "epsilon", "epsilonGain", "upperBound", "fitBias", "signal", "onProgress", "warmStart", "threads"];

interface ResolvedNetworkOptions {
  mode: PruneMode;
  /** One gain per layer. */
  gains: number[];
  /** One target density per layer, when the density search runs. */
  densities: number[] | undefined;
  densityTolerance: number;
  gamma: number;
  kappa: number;
  refit: boolean;
  /** Threads for each layer solved in this thread (options.threads). */
  threads: number | "auto";
  layerOptions: NetworkLayerOptions;
}

/** One value per layer: a number for all, or an array of exactly `layers` values, each checked. */
function perLayer(value: unknown, layers: number, fallback: number, field: string, ok: (x: unknown) => boolean, expected: string): number[] {
  if (value === undefined) return new Array(layers).fill(fallback);
  if (!Array.isArray(value)) {
    if (!ok(value)) throw new ValidationError(field, `${expected}, or one per layer (${layers})`, value);
    return new Array(layers).fill(value);
  }
  if (value.length !== layers) throw new ValidationError(field, `one value per layer (${layers})`, value);
  value.forEach((x, i) => {
    if (!ok(x)) throw new ValidationError(`${field}[${i}]`, expected, x);
  });
  return value;
}

const isGain = (g: unknown) => typeof g === "number" && Number.isFinite(g) && g >= 0;
const isDensity = (d: unknown) => typeof d === "number" && d > 0 && d <= 1;

export function resolveNetworkOptions(options: unknown, layers: number): ResolvedNetworkOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw new ValidationError("options", "an object", options);
  const o = options as NetworkOptions;
  checkOptionNames(o, "options", OPTION_NAMES);
  const mode = o.mode ?? "parallel";
  if (mode !== "parallel" && mode !== "cascade") throw new ValidationError("options.mode", `"parallel" or "cascade"`, mode);
  if (o.epsilonGain !== undefined && o.density !== undefined) {
    throw new ValidationError("options.density", "either density or epsilonGain, not both", o.density);
  }
  const gains = perLayer(o.epsilonGain, layers, DEFAULTS.epsilonGain, "options.epsilonGain", isGain, "a finite number ≥ 0");
  const densities = o.density === undefined ? undefined : perLayer(o.density, layers, 1, "options.density", isDensity, "a fraction in (0, 1]");
  const densityTolerance = o.densityTolerance ?? 0.05;
  if (!isGain(densityTolerance)) throw new ValidationError("options.densityTolerance", "a finite number ≥ 0", densityTolerance);
  const gamma = o.gamma ?? 1.1;
  if (typeof gamma !== "number" || !(gamma >= 1) || !Number.isFinite(gamma)) throw new ValidationError("options.gamma", "a finite number ≥ 1", gamma);
  const kappa = o.kappa ?? 1;
  if (typeof kappa !== "number" || !(kappa > 0 && kappa <= 1)) throw new ValidationError("options.kappa", "a number in (0, 1]", kappa);
  const refit = o.refit ?? false;
  if (typeof refit !== "boolean") throw new ValidationError("options.refit", "true or false", refit);
  const threads = checkThreads(o.threads === undefined ? 1 : o.threads, "options.threads");
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw new ValidationError("options.onProgress", "a function", o.onProgress);
  checkSignal(o.signal, "options.signal");
  const layerOptions = o.layerOptions ?? {};
  if (layerOptions === null || typeof layerOptions !== "object" || Array.isArray(layerOptions)) {
    throw new ValidationError("options.layerOptions", "an object", layerOptions);
  }
  for (const banned of DRIVER_SET) {
    if (banned in layerOptions) throw new ValidationError(`options.layerOptions.${banned}`, "to be set by the network driver", (layerOptions as Record<string, unknown>)[banned]);
  }
  // Here, once, before any work: not in each layer's solve, nor late in a worker.
  resolveOptions(layerOptions, "options.layerOptions");
  // Reweighted ℓ1 (NETWORK_REWEIGHT) unless layerOptions.reweight says otherwise ({rounds: 0}:
  // plain ℓ1). pruneGraph does the same, so a chain gives what its graph gives either way.
  return { mode, gains, densities, densityTolerance, gamma, kappa, refit, threads, layerOptions: withNetworkReweight(layerOptions) };
}
