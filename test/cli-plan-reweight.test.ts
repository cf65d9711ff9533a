// net-trim plan --reweight: the plan carries the reweighting resolved ({rounds, delta}) in its
// manifest, and plan / solve / merge writes what net-trim prune --reweight writes, byte for byte.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLineError, run } from "./helpers/cli.ts";
import { writeSmallMlp } from "./helpers/small-mlp.ts";

// The bundled MLP's last two layers (300-100-10) on 80 rows of its first layer's activations: the
// byte-for-byte comparison holds for any model, and this one solves in a fraction of the time.
let tmp: string, MODEL: string, calib: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-plan-reweight-"));
  ({ model: MODEL, calibration: calib } = writeSmallMlp(path.join(tmp, "small"), 80));
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim plan --reweight", () => {
  it("the manifest holds the resolved reweighting; the merged files equal prune --reweight's", async () => {
    const work = path.join(tmp, "work");
    const common = ["--epsilon-gain", "0.1", "--max-iter", "150", "--reweight", "2", "-q"];
    const plan = await run(["plan", MODEL, "-c", calib, "--work", work, ...common]);
    expect(plan.code, plan.stderr).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(work, "manifest.json"), "utf8"));
    expect(manifest.options.layerOptions.reweight).toEqual({ rounds: 2, delta: 0.1 });
    const solved = await run(["solve", "--work", work, "--next", "--until-done", "-q"]);
    expect(solved.code, solved.stderr).toBe(0);
    const merged = await run(["merge", "--work", work, "-o", path.join(tmp, "merged"), "-q"]);
    expect(merged.code, merged.stderr).toBe(0);
    const pruned = await run(["prune", MODEL, "-c", calib, "-o", path.join(tmp, "pruned"), "--workers", "2", ...common]);
    expect(pruned.code, pruned.stderr).toBe(0);
    for (const f of ["model.json", "weights.bin", "masks.json"]) {
      expect(fs.readFileSync(path.join(tmp, "merged", f)).equals(fs.readFileSync(path.join(tmp, "pruned", f))), f).toBe(true);
    }
    const report = JSON.parse(fs.readFileSync(path.join(tmp, "merged", "report.json"), "utf8"));
    expect(report.options.reweight).toEqual({ rounds: 2, delta: 0.1 });
  }, 180_000);

  it("without --reweight the manifest holds the default 3 rounds (with --reweight-delta's δ); --reweight-delta with --reweight 0 is refused in one line", async () => {
    const work = path.join(tmp, "w3");
    const planned = await run(["plan", MODEL, "-c", calib, "--work", work, "--reweight-delta", "0.2", "-q"]);
    expect(planned.code, planned.stderr).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(work, "manifest.json"), "utf8"));
    expect(manifest.options.layerOptions.reweight).toEqual({ rounds: 3, delta: 0.2 });
    expectOneLineError(await run(["plan", MODEL, "-c", calib, "--work", path.join(tmp, "w2"), "--reweight", "0", "--reweight-delta", "0.2"]), 2,
      "--reweight-delta: only used with reweighting rounds");
  });
});
