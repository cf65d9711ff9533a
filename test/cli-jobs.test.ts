// net-trim plan / solve / merge as child processes on the bundled MLP's last two layers
// (300-100-10, helpers/small-mlp.ts: the checks hold for any model, and this one solves in a
// fraction of the time): the merged output is the same files, byte for byte, as net-trim prune's;
// each refusal is one line naming the file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";
import { writeSmallMlp } from "./helpers/small-mlp.ts";

let tmp: string, MODEL: string, OTHER: string, calib: string, work: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-jobs-"));
  ({ model: MODEL, calibration: calib } = writeSmallMlp(path.join(tmp, "small"), 250));
  // Another model of the same shape: the same two layers of models/mnist-mlp-nodropout.
  OTHER = writeSmallMlp(path.join(tmp, "other"), 1, "float32", path.join(ROOT, "models", "mnist-mlp-nodropout", "model.json")).model;
  work = path.join(tmp, "work");
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const copyWork = (name: string) => {
  const to = path.join(tmp, name);
  fs.cpSync(work, to, { recursive: true });
  return to;
};

describe("net-trim plan, solve, merge", () => {
  it("write what net-trim prune writes, byte for byte", async () => {
    const common = ["--epsilon-gain", "0.04,0.03", "--max-iter", "300", "-q"];
    const plan = await run(["plan", MODEL, "-c", calib, "--work", work, ...common]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toBe("2\n"); // the job count, for a script
    const solved = await Promise.all([
      run(["solve", "--work", work, "--layer", "1"]),
      run(["solve", "--work", `file://${work}`, "--next", "--until-done"]),
    ]);
    for (const r of solved) expect(r.code, r.stderr).toBe(0);
    const lines = solved.map((r) => r.stdout).join("");
    for (const name of ["hidden2", "logits"]) expect(lines).toMatch(new RegExp(`^layer \\d \\(${name}\\): solved, \\d+ iterations, [\\d.]+ s → results/layer-\\d\\.npy$`, "m"));
    const again = await run(["solve", "--work", work, "--next"]);
    expect(again.stdout).toBe("nothing left to solve: every layer has a result or is being solved\n");

    const merged = await run(["merge", "--work", work, "-o", path.join(tmp, "merged")]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/^guarantee, Theorem 1 \(parallel\): .*: holds$/m);
    const pruned = await run(["prune", MODEL, "-c", calib, "-o", path.join(tmp, "pruned"), "--workers", "2", ...common]);
    expect(pruned.code, pruned.stderr).toBe(0);
    for (const f of ["model.json", "weights.bin", "masks.json"]) {
      expect(fs.readFileSync(path.join(tmp, "merged", f)).equals(fs.readFileSync(path.join(tmp, "pruned", f))), f).toBe(true);
    }
    const [a, b] = ["merged", "pruned"].map((d) => JSON.parse(fs.readFileSync(path.join(tmp, d, "report.json"), "utf8")));
    expect(a.guarantee).toEqual(b.guarantee);
    expect(a.total).toEqual(b.total);
    expect(a.options).toMatchObject({ mode: "parallel", epsilonGain: [0.04, 0.03], maxIter: 300, jobs: 2 });
    // Both 3 reweighting rounds by default, and both say so.
    expect(a.options.reweight).toEqual({ rounds: 3, delta: 0.1 });
    expect(b.options.reweight).toEqual(a.options.reweight);
  }, 180_000);

  it("refuses a corrupted result file", async () => {
    const w = copyWork("corrupt");
    const file = path.join(w, "results", "layer-0.npy");
    const bytes = fs.readFileSync(file);
    bytes[200] ^= 1;
    fs.writeFileSync(file, bytes);
    expectOneLineError(await run(["merge", "--work", w, "-o", path.join(tmp, "x1")]), 1,
      "results/layer-0.npy: expected sha256 ", "the file was altered or corrupted after the solve", `--layer 0 again`);
    expect(fs.existsSync(path.join(tmp, "x1"))).toBe(false);
  });

  it("refuses a plan made for another model", async () => {
    expectOneLineError(await run(["merge", "--work", work, "-o", path.join(tmp, "x2"), "--model", OTHER]), 1,
      "manifest.json: expected a plan of this model (sha256 ", "received a plan made for another model");
    expectOneLineError(await run(["plan", OTHER, "-c", calib, "--work", work, "-q"]), 1,
      "manifest.json: expected no plan or this one", "received a plan of another model", "CLI: --force");
    expect(fs.existsSync(path.join(tmp, "x2"))).toBe(false);
  });

  it("refuses a missing result", async () => {
    const w = copyWork("missing");
    fs.rmSync(path.join(w, "results", "layer-1.json"));
    expectOneLineError(await run(["merge", "--work", w, "-o", path.join(tmp, "x3")]), 1,
      "expected a result for each of the 2 layers, received none for layer 1 (\"logits\")", `net-trim solve --work ${w} --layer 1, or --next`);
  });

  it("refuses the result of another problem", async () => {
    const w = copyWork("foreign");
    for (const e of ["npy", "json"]) fs.copyFileSync(path.join(w, "results", `layer-0.${e}`), path.join(w, "results", `layer-1.${e}`));
    expectOneLineError(await run(["merge", "--work", w, "-o", path.join(tmp, "x4")]), 1,
      "results/layer-1.json: expected the result of layer 1 (\"logits\"", "received a result of layer 0 (\"hidden2\"", "it solves another problem");
  });

  it("usage mistakes are named", async () => {
    expectOneLineError(await run(["solve", "--work", work]), 2, "solve: expected --layer <i> or --next, received neither");
    expectOneLineError(await run(["solve", "--work", work, "--layer", "2"]), 1, "manifest.json: expected a layer index from 0 to 1, received layer 2");
    expectOneLineError(await run(["solve", "--work", work, "--layer", "-1"]), 2, "--layer");
    expectOneLineError(await run(["solve", "--layer", "0"]), 2, "--work: expected the work folder of solve");
    expectOneLineError(await run(["solve", "--work", path.join(tmp, "nowhere"), "--layer", "0"]), 1, "nowhere/manifest.json: expected a plan (run net-trim plan … --work first), received no such file");
    expectOneLineError(await run(["plan", MODEL, "-c", calib, "--work", work, "--mode", "cascade"]), 2, "--mode: not an option of plan");
    expectOneLineError(await run(["merge", "--work", "s3://bucket/work", "-o", path.join(tmp, "x5")]), 1, 'work: expected a folder path or a file:// URL');
  });
});
