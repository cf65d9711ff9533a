// Validation of options.reweight (iteratively reweighted ℓ1), apart from validate.ts so that the
// option stays one concern.
import { DEFAULTS, NETWORK_REWEIGHT, REWEIGHT_MAX_ROUNDS } from "./defaults.ts";
import { ValidationError } from "./errors.ts";

/** {rounds, delta} with δ's default filled in; undefined when absent or 0 rounds. `at` names the option in errors. */
export function resolveReweight(value: unknown, at = "options.reweight"): { rounds: number; delta: number } | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(at, "an object {rounds, delta?}", value);
  }
  const { rounds, delta, ...unknown } = value as Record<string, unknown>;
  for (const key of Object.keys(unknown)) {
    throw new ValidationError(`${at}.${key}`, "one of rounds, delta", key);
  }
  if (typeof rounds !== "number" || !Number.isInteger(rounds) || rounds < 0 || rounds > REWEIGHT_MAX_ROUNDS) {
    throw new ValidationError(`${at}.rounds`, `an integer from 0 to ${REWEIGHT_MAX_ROUNDS}`, rounds);
  }
  const d = delta === undefined ? DEFAULTS.reweightDelta : delta;
  if (typeof d !== "number" || !Number.isFinite(d) || d <= 0) {
    throw new ValidationError(`${at}.delta`, "a finite number > 0 (δ relative to the mean |w| of the nonzeros)", delta);
  }
  return rounds === 0 ? undefined : { rounds, delta: d };
}

/**
 * The network drivers' layer options (pruneNetwork, pruneGraph, planNetwork, planGraph) with the
 * drivers' default filled in: NETWORK_REWEIGHT (3 rounds, δ = 0.1) unless `reweight` is given;
 * `{rounds: 0}` asks for the plain ℓ1 program. The layer solvers themselves default to plain ℓ1.
 */
export function withNetworkReweight<T extends { reweight?: unknown }>(layerOptions: T): T {
  return layerOptions.reweight === undefined ? { ...layerOptions, reweight: { ...NETWORK_REWEIGHT } } : layerOptions;
}
