// net-trim prune --keep-allocation: common-gain asked for in parallel mode is what runs (its
// share counted on the written model); bad values, per-layer in cascade mode and the flag
// without --keep refused with exit code 2 and a message naming the flag and what it expects.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLineError, run } from "./helpers/cli.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { denseModel, uniform } from "./helpers/dense-models.ts";

// A small seeded Dense chain (the bundled MNIST model takes minutes per common-gain search on a loaded machine).
const SIZES = [30, 20, 10, 4], SAMPLES = 300;

let tmp: string;
let MODEL: string;
let calibJson: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-keep-allocation-"));
  const { modelJson, weightData } = denseModel({ sizes: SIZES, seed: 71 });
  MODEL = path.join(tmp, "model.json");
  fs.writeFileSync(MODEL, JSON.stringify(modelJson));
  fs.writeFileSync(path.join(tmp, "weights.bin"), new Uint8Array(weightData));
  const random = uniform(72);
  calibJson = path.join(tmp, "calib.json");
  fs.writeFileSync(calibJson, JSON.stringify(Array.from({ length: SAMPLES }, () => Array.from({ length: SIZES[0] }, () => 2 * random() - 1))));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("net-trim prune --keep-allocation", () => {
  it("refuses values other than per-layer and common-gain, per-layer in cascade mode, and the flag without --keep", async () => {
    const out = path.join(tmp, "refused");
    const prune = (...flags: string[]) => run(["prune", MODEL, "-c", calibJson, "-o", out, ...flags]);
    expectOneLineError(await prune("--keep", "0.1", "--keep-allocation", "greedy"), 2, "--keep-allocation: expected per-layer or common-gain", "\"greedy\"");
    expectOneLineError(await prune("--keep", "0.1", "--mode", "cascade", "--keep-allocation", "per-layer"), 2, "--keep-allocation: expected common-gain in cascade mode", "received per-layer");
    expectOneLineError(await prune("--epsilon-gain", "0.1", "--keep-allocation", "common-gain"), 2, "--keep-allocation: only with --keep");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("common-gain in parallel mode: one gain for every layer, the share counted on the written model", async () => {
    const out = path.join(tmp, "common-gain");
    const r = await run(["prune", MODEL, "-c", calibJson, "-o", out, "--keep", "40%", "--keep-allocation", "common-gain", "--workers", "0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.options.keepAllocation).toBe("common-gain");
    expect(report.keep.allocation).toBe("common-gain");
    expect(report.keep.probes.at(-1).gain).toBe(report.keep.gain);
    const written = readLayersModelDir(path.join(out, "model.json")).network;
    let nnz = 0, all = 0;
    for (const l of written.layers) {
      nnz += [...l.kernel, ...l.bias].filter((v) => v !== 0).length;
      all += l.kernel.length + l.bias.length;
    }
    expect(Math.abs(nnz / all - 0.4)).toBeLessThanOrEqual(0.05 * 0.4);
    expect(report.keep.keptFraction).toBeCloseTo(nnz / all, 12);
  }, 300_000);
});
