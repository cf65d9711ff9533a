// Property tests (fast-check, fixed seeds) of the Dense-chain TF.js reader and writer, the .npy
// and JSON calibration readers and masks.json: structured mutations of valid files (keys removed,
// types swapped, shapes and dtypes changed, prototype names, deep nesting, edge numbers, bytes cut,
// extended or overwritten with NaN/∞). Every case is read or refused with a NetTrimError within
// 2 s (files on disk too: readLayersModelDir); an accepted one is consistent and round-trips bit for bit (test/helpers/fuzz-targets.ts).
// The graph and ONNX readers have their own files; `npm run fuzz` runs 100,000 cases per reader.
import { beforeAll, describe, expect, it } from "vitest";
import { assertTarget } from "./helpers/fuzz-property.ts";
import { calibrationTarget, denseTarget, filesTarget, masksTarget, npyTarget, type FuzzTarget } from "./helpers/fuzz-targets.ts";

let masks: FuzzTarget;
beforeAll(async () => { masks = await masksTarget(); });

describe("readers on mutated inputs: read (consistent, round trip exact) or a NetTrimError", () => {
  it("TF.js Dense chains: parseLayersModel, writeLayersModel, masks", () => {
    const tally = assertTarget(denseTarget, 1202, 1500);
    expect(tally.accepted).toBeGreaterThan(150);
    expect(tally.ModelFormatError).toBeGreaterThan(700);
  });

  it(".npy: parseNpy", () => {
    const tally = assertTarget(npyTarget, 1203, 1500);
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.ValidationError + tally.ShapeError).toBeGreaterThan(500);
  });

  it("calibration JSON: parseCalibrationJson", () => {
    const tally = assertTarget(calibrationTarget, 1204, 1500);
    expect(tally.accepted).toBeGreaterThan(300);
    expect(tally.ValidationError).toBeGreaterThan(300);
  });

  it("masks.json: masksFromJson", () => {
    const tally = assertTarget(masks, 1205, 1000);
    expect(tally.accepted).toBeGreaterThan(200);
    expect(tally.ModelFormatError).toBeGreaterThan(300);
  });

  it("model folders on disk: readLayersModelDir (weight paths outside the folder, split files)", () => {
    const target = filesTarget();
    const tally = (() => { try { return assertTarget(target, 1206, 400); } finally { target.dispose?.(); } })();
    expect(tally.accepted).toBeGreaterThan(30);
    expect(tally.ModelFormatError).toBeGreaterThan(200);
  });
});
