// net-trim plan / solve / merge on a model graph (the bundled CNN), as child processes: the merged
// output is the same files, byte for byte, as net-trim prune's in parallel mode; a corrupted
// result and a missing one are refused in one line naming the file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { npy } from "./helpers/npy.ts";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";

const MODEL = path.join(ROOT, "models", "mnist-cnn", "model.json");
let tmp: string, calib: string, work: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-jobs-graph-"));
  calib = path.join(tmp, "calib.npy");
  fs.writeFileSync(calib, npy(loadMnist().trainX.subarray(0, 60 * PIXELS), 60, PIXELS));
  work = path.join(tmp, "work");
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim plan, solve, merge on a model graph", () => {
  it("write what net-trim prune writes, byte for byte", async () => {
    const common = ["--epsilon-gain", "0.05,0.08,0.04,0.03", "--max-iter", "300", "-q"];
    const plan = await run(["plan", MODEL, "-c", calib, "--work", work, ...common]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toBe("4\n");
    const solved = await Promise.all([
      run(["solve", "--work", work, "--layer", "3"]),
      run(["solve", "--work", work, "--next", "--until-done"]),
    ]);
    for (const r of solved) expect(r.code, r.stderr).toBe(0);
    const lines = solved.map((r) => r.stdout).join("");
    for (const name of ["conv1", "conv2", "fc1", "logits"]) expect(lines).toMatch(new RegExp(`^layer \\d \\(${name}\\): \\w+, \\d+ iterations`, "m"));

    const merged = await run(["merge", "--work", work, "-o", path.join(tmp, "merged")]);
    expect(merged.code, merged.stderr).toBe(0);
    const pruned = await run(["prune", MODEL, "-c", calib, "-o", path.join(tmp, "pruned"), "--workers", "2", ...common]);
    expect(pruned.code, pruned.stderr).toBe(0);
    for (const f of ["model.json", "weights.bin", "masks.json"]) {
      expect(fs.readFileSync(path.join(tmp, "merged", f)).equals(fs.readFileSync(path.join(tmp, "pruned", f))), f).toBe(true);
    }
    const [a, b] = ["merged", "pruned"].map((d) => JSON.parse(fs.readFileSync(path.join(tmp, d, "report.json"), "utf8")));
    expect(a.total).toEqual(b.total);
    expect(a.outputError).toEqual(b.outputError);
    expect(a.layers.map((l: { relativeError: number }) => l.relativeError)).toEqual(b.layers.map((l: { relativeError: number }) => l.relativeError));
    expect(a.options).toMatchObject({ mode: "parallel", epsilonGain: [0.05, 0.08, 0.04, 0.03], maxIter: 300, jobs: 4 });
  }, 240_000);

  it("refuses a corrupted result file and a missing one", async () => {
    const w = path.join(tmp, "corrupt");
    fs.cpSync(work, w, { recursive: true });
    const file = path.join(w, "results", "layer-1.npy");
    const bytes = fs.readFileSync(file);
    bytes[200] ^= 1;
    fs.writeFileSync(file, bytes);
    expectOneLineError(await run(["merge", "--work", w, "-o", path.join(tmp, "x1")]), 1,
      "results/layer-1.npy: expected sha256 ", "the file was altered or corrupted after the solve", "--layer 1 again");
    fs.rmSync(path.join(w, "results", "layer-2.json"));
    expectOneLineError(await run(["merge", "--work", w, "-o", path.join(tmp, "x1")]), 1,
      "expected a result for each of the 4 jobs, received none for layer 2 (\"fc1\")");
    expect(fs.existsSync(path.join(tmp, "x1"))).toBe(false);
  });

  // Before: plan copied only the .onnx file, so merge without --model failed on the missing data file.
  it("an ONNX model with external weight data: plan copies the data file, merge needs nothing but the work folder", async () => {
    const src = path.join(tmp, "onnx-src");
    fs.mkdirSync(src);
    const fixtures = path.join(ROOT, "test", "fixtures", "onnx");
    fs.copyFileSync(path.join(fixtures, "mlp-external.onnx"), path.join(src, "mlp.onnx"));
    fs.copyFileSync(path.join(fixtures, "mlp-external.data"), path.join(src, "mlp-external.data"));
    const x = new Float32Array(40 * 20).map((_, i) => Math.abs(Math.sin(i * 0.37)));
    fs.writeFileSync(path.join(tmp, "calib20.npy"), npy(x, 40, 20));
    const w = path.join(tmp, "work-external");
    const plan = await run(["plan", path.join(src, "mlp.onnx"), "-c", path.join(tmp, "calib20.npy"), "--work", w, "--max-iter", "200", "-q"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(fs.readFileSync(path.join(w, "model", "mlp-external.data")).equals(fs.readFileSync(path.join(fixtures, "mlp-external.data")))).toBe(true);
    fs.rmSync(src, { recursive: true });
    const solved = await run(["solve", "--work", w, "--next", "--until-done", "-q"]);
    expect(solved.code, solved.stderr).toBe(0);
    const merged = await run(["merge", "--work", w, "-o", path.join(tmp, "merged-external"), "-q"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, "merged-external", "model.onnx"))).toBe(true);
  }, 120_000);
});
