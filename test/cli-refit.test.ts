// net-trim prune --refit: the refit on the support from the command line (the bundled MNIST
// model's last two layers, helpers/small-mlp.ts: the checks hold for any Dense chain, and this
// one solves in a fraction of the time), the written model's numbers recomputed here, and
// --refit refused on a model graph.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";
import { writeSmallMlp } from "./helpers/small-mlp.ts";
import { forward, type DenseNetwork } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";

const CNN = path.join(ROOT, "models", "mnist-cnn", "model.json");
const SAMPLES = 100;

const nonzeros = (a: Float32Array) => a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
const frob = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

let tmp: string;
let calibJson: string; // digits, for the CNN
let MODEL: string, calibNpy: string;
let calibration: Float32Array; // the small model's calibration rows
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-refit-"));
  const digits = loadMnist().trainX.slice(0, SAMPLES * PIXELS);
  calibJson = path.join(tmp, "calib.json");
  fs.writeFileSync(calibJson, JSON.stringify(Array.from({ length: SAMPLES }, (_, r) => Array.from(digits.subarray(r * PIXELS, (r + 1) * PIXELS)))));
  ({ model: MODEL, calibration: calibNpy, activations: calibration } = writeSmallMlp(path.join(tmp, "small"), SAMPLES));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("net-trim prune --refit", () => {
  // One refit run serves both tests: the table on stdout, the report (what --json prints) in report.json.
  it("refits, keeps the plain run's zeros, reports the refitted network's error and flags the guarantee; the table says the bound is for the weights before the refit", async () => {
    const plainDir = path.join(tmp, "plain"), refitDir = path.join(tmp, "refit");
    const common = ["-c", calibNpy, "--epsilon-gain", "0.1", "--max-iter", "300", "--workers", "0", "--quiet"];
    const plain = await run(["prune", MODEL, ...common, "-o", plainDir, "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    const r = await run(["prune", MODEL, ...common, "-o", refitDir, "--refit"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("(for the weights before the refit)");
    expect(r.stdout).toMatch(/refitted network: measured end-to-end error [\d.e+-]+ \(relative [\d.]+\); no bound is computed for these weights/);
    const report = JSON.parse(fs.readFileSync(path.join(refitDir, "report.json"), "utf8"));
    expect(report.options.refit).toBe(true);
    expect(JSON.parse(plain.stdout).options.refit).toBe(false);
    expect(report.guarantee.appliesToReturnedWeights).toBe(false);

    const original = readLayersModelDir(MODEL).network;
    const before: DenseNetwork = readLayersModelDir(path.join(plainDir, "model.json")).network;
    const after: DenseNetwork = readLayersModelDir(path.join(refitDir, "model.json")).network;
    after.layers.forEach((l, i) => {
      const b = before.layers[i];
      l.kernel.forEach((v, k) => expect(v !== 0).toBe(b.kernel[k] !== 0));
      expect(report.layers[i].nnzAfter).toBe(nonzeros(l.kernel) + nonzeros(l.bias));
      expect(report.layers[i].refit.relativeError).toBeLessThanOrEqual(report.layers[i].refit.unrefittedRelativeError);
    });
    const logits = (n: DenseNetwork) => forward(n, calibration, SAMPLES)[1];
    const reference = logits(original);
    const error = (n: DenseNetwork) => frob(logits(n).map((v, k) => v - reference[k]));
    expect(report.refit.measuredError).toBeCloseTo(error(after), 2);
    expect(report.refit.relativeError).toBeCloseTo(error(after) / frob(reference), 4);
    expect(error(after)).toBeLessThan(error(before));
  }, 180_000); // two runs of the 300-100-10 MLP

  it("is refused on a model graph, naming the flag (exit 2)", async () => {
    const r = await run(["prune", CNN, "-c", calibJson, "-o", path.join(tmp, "cnn"), "--refit"]);
    expectOneLineError(r, 2, "--refit: only for chains of Dense layers");
  });
});
