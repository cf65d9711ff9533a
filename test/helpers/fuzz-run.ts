// Running one fuzz case: its outcome ("accepted" or the refusing error's class), the time of the
// reading (not of building the mutated input), and a failure when the reader threw something that
// is not a NetTrimError, took over 2 s, or accepted an input whose result is inconsistent.
import { NetTrimError } from "../../bindings/index.ts";
import type { FuzzTarget } from "./fuzz-targets.ts";

/** The most one case may take (the hang threshold). */
export const CASE_LIMIT_MS = 2_000;

export interface CaseResult {
  outcome: string;
  ms: number;
  failure?: string;
}

export function runCase<I>(target: FuzzTarget<I>, input: I): CaseResult {
  const built = target.build(input); // a harness error here fails the test or the script outright
  const start = performance.now();
  let outcome = "accepted";
  let failure: string | undefined;
  try {
    const findings = target.run(built);
    if (findings.length) failure = `accepted but inconsistent: ${findings.slice(0, 3).join("; ")}`;
  } catch (e) {
    if (e instanceof NetTrimError) outcome = e.name;
    else {
      outcome = "foreign";
      failure = `${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}\n${(e as Error)?.stack?.split("\n").slice(1, 5).join("\n") ?? ""}`;
    }
  }
  const ms = performance.now() - start;
  if (!failure && ms > CASE_LIMIT_MS) failure = `took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms)`;
  return { outcome, ms, failure };
}
