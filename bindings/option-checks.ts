// The checks every options object of the public API shares (pruneLayer, pruneConvLayer,
// pruneNetwork, pruneGraph, the worker pool): known names only, with the nearest known name
// suggested; integers within stated bounds; one rule for what counts as an AbortSignal.
import { LIMITS } from "./defaults.ts";
import { ValidationError } from "./errors.ts";

/** Refuses any own key of `options` that is not in `known`, naming it and the nearest known name. */
export function checkOptionNames(options: object, field: string, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    const hint = near === undefined ? "" : ` (did you mean "${near}"?)`;
    throw new ValidationError(`${field}.${key}`, `one of the known options${hint}: ${known.join(", ")}`, key);
  }
}

/** An integer in [min, max]; `why` says where the upper bound comes from. */
export function boundedInteger(value: unknown, field: string, min: number, max: number, why = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `an integer from ${min} to ${max}${why ? ` (${why})` : ""}`, value);
  }
  return value;
}

/**
 * One rule for signals everywhere: an AbortSignal, or any object of its shape (a boolean `aborted`,
 * `addEventListener` and `removeEventListener`: a signal of another realm or a polyfill). The
 * solver polls `aborted`; the worker pool listens for the event, so a plain {aborted} object is
 * refused on every path, not only on some.
 */
export function checkSignal(value: unknown, field: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const s = value as Partial<AbortSignal> | null;
  if (s === null || typeof s !== "object" || typeof s.aborted !== "boolean" ||
    typeof s.addEventListener !== "function" || typeof s.removeEventListener !== "function") {
    throw new ValidationError(field, "an AbortSignal (an object with a boolean aborted, addEventListener and removeEventListener)", value);
  }
  return value as AbortSignal;
}

/** The known name closest to `name` (case, "_" and "-" ignored), if it is close enough to be a slip. */
function nearestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const target = norm(name);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(target, norm(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(target.length / 3)) ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions (a swapped pair of letters is one slip). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/** A thread count: "auto" (the hardware threads) or an integer from 1 to LIMITS.threads. */
export function checkThreads(value: unknown, field: string): number | "auto" {
  if (value !== "auto" && (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > LIMITS.threads)) {
    throw new ValidationError(field, `"auto" or an integer from 1 to ${LIMITS.threads}`, value);
  }
  return value;
}
