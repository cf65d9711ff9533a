// A fuzz target as a fast-check property for the test suite: seeded, every case run by runCase,
// any failure thrown (so fast-check shrinks it and prints the seed and path), outcomes tallied.
import fc from "fast-check";
import { runCase } from "./fuzz-run.ts";
import type { FuzzTarget } from "./fuzz-targets.ts";

/** Runs `numRuns` seeded cases; returns how many ended in each outcome ("accepted", "ModelFormatError", ...). */
export function assertTarget<I>(target: FuzzTarget<I>, seed: number, numRuns: number): Record<string, number> {
  const tally: Record<string, number> = {};
  fc.assert(
    fc.property(target.arbitrary, (input) => {
      const r = runCase(target, input);
      if (r.failure) throw new Error(r.failure);
      tally[r.outcome] = (tally[r.outcome] ?? 0) + 1;
    }),
    { seed, numRuns },
  );
  return tally;
}
