// A property test (fast-check, fixed seed) of the graph reader and writer: mutations of real
// model.json files saved by TF.js (values replaced by every JSON type, edge numbers and
// Object.prototype names, keys deleted, layers dropped, duplicated or swapped, shapes and dtypes
// changed, values nested past the readers' depth bound) and of their weight data (cut, extended,
// bytes flipped, NaN/∞ written). Each case either reads as a graph that is consistent (finite
// weights, sizes within 4 GiB, a forward pass with finite outputs for the model's own weights)
// and writes back to the same weights bit for bit, or is refused with a NetTrimError, within 2 s.
import { beforeAll, describe, expect, it } from "vitest";
import { assertTarget } from "./helpers/fuzz-property.ts";
import { graphTarget, type FuzzTarget } from "./helpers/fuzz-targets.ts";

let target: FuzzTarget;
beforeAll(async () => { target = await graphTarget(); });

describe("graph reader on mutated TF.js models (fast-check)", () => {
  it("every outcome is a consistent graph that round-trips, or a NetTrimError", () => {
    const tally = assertTarget(target, 20261202, 3000);
    expect(tally.ModelFormatError).toBeGreaterThan(1500); // the mutations do hit
    expect(tally.accepted).toBeGreaterThan(300); // and some are harmless (names, initialisers, trainable flags)
  });
});
