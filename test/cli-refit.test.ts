// net-trim prune --refit: the refit on the support from the command line (the bundled MNIST
// model's last two layers, helpers/small-mlp.ts: the checks hold for any Dense chain, and this
// one solves in a fraction of the time), the written model's numbers recomputed here; the
// bundled CNN (a model graph) refitted too.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { ROOT, run } from "./helpers/cli.ts";
import { writeSmallMlp } from "./helpers/small-mlp.ts";
import { forward, forwardGraph, isPrunable, parseLayersModelGraph, type DenseNetwork, type ModelGraph } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";

const CNN = path.join(ROOT, "models", "mnist-cnn", "model.json");
const SAMPLES = 100;

const nonzeros = (a: Float32Array) => a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
const frob = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

let tmp: string;
let calibJson: string; // digits, for the CNN
let MODEL: string, calibNpy: string;
let calibration: Float32Array; // the small model's calibration rows
let digits: Float32Array; // the CNN's
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-refit-"));
  digits = loadMnist().trainX.slice(0, SAMPLES * PIXELS);
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

  it("refits a model graph (the bundled CNN): the plain run's zeros kept, nnz and output error of the written model, the table's refit column", async () => {
    const plainDir = path.join(tmp, "cnn-plain"), refitDir = path.join(tmp, "cnn-refit");
    const common = ["-c", calibJson, "--epsilon-gain", "0.2", "--max-iter", "300", "--workers", "0", "--threads", "1", "--quiet"];
    const plain = await run(["prune", CNN, ...common, "-o", plainDir, "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    const r = await run(["prune", CNN, ...common, "-o", refitDir, "--refit"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("after refit");
    const report = JSON.parse(fs.readFileSync(path.join(refitDir, "report.json"), "utf8"));
    expect(report.options.refit).toBe(true);
    expect(JSON.parse(plain.stdout).options.refit).toBe(false);
    const graphOf = (dir: string) => {
      const bytes = fs.readFileSync(path.join(dir, "weights.bin"));
      return parseLayersModelGraph(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    const original = graphOf(path.dirname(CNN)), before = graphOf(plainDir), after = graphOf(refitDir);
    for (const l of report.layers) {
      const a = after.nodes.find((n) => n.name === l.name)!, b = before.nodes.find((n) => n.name === l.name)!;
      if (!isPrunable(a) || !isPrunable(b)) throw new Error(`${l.name} is not prunable`);
      a.kernel.forEach((v, k) => { if (b.kernel[k] === 0) expect(v, l.name).toBe(0); });
      expect(l.nnzAfter, l.name).toBe(nonzeros(a.kernel) + nonzeros(a.bias!));
      expect(l.refit.relativeError, l.name).toBeLessThanOrEqual(l.refit.unrefittedRelativeError);
    }
    const logits = (g: ModelGraph) => forwardGraph(g, [digits], SAMPLES).outputs[0];
    const reference = logits(original);
    const error = (g: ModelGraph) => frob(logits(g).map((v, k) => v - reference[k])) / frob(reference);
    expect(report.outputError.relative).toBeCloseTo(error(after), 4);
    expect(error(after)).toBeLessThan(error(before));
  }, 180_000); // two runs of the CNN on 100 digits
});
