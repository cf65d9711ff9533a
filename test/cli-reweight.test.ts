// net-trim prune --reweight and --keep (issue 11) from the command line: on the bundled MNIST
// model's last two layers (test/helpers/small-mlp.ts) plain l1 by default, fewer nonzeros than the plain run,
// every round in report.json, the written model's nonzeros recomputed here; the whole-network share
// of --keep counted on the written model; bad values refused with exit code 2; on a model graph
// (the bundled CNN) every node reweighted, the written files' nonzeros as reported and fewer than
// plain l1's.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";
import { writeSmallMlp } from "./helpers/small-mlp.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { isPrunable, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";

const CNN = path.join(ROOT, "models", "mnist-cnn", "model.json");
const SAMPLES = 100;
const CNN_SAMPLES = 40; // digits for the CNN: 40 × 576 = 23,040 rows for conv1 already

let tmp: string;
let calibJson: string; // CNN_SAMPLES digits
let small: { model: string; calibration: string };
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-reweight-"));
  const digits = loadMnist().trainX.slice(0, CNN_SAMPLES * PIXELS);
  calibJson = path.join(tmp, "calib.json");
  fs.writeFileSync(calibJson, JSON.stringify(Array.from({ length: CNN_SAMPLES }, (_, r) => Array.from(digits.subarray(r * PIXELS, (r + 1) * PIXELS)))));
  small = writeSmallMlp(path.join(tmp, "small"), SAMPLES);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("net-trim prune --reweight", () => {
  it("3 rounds by default, --reweight 0 plain l1; the default and --reweight 2 keep fewer nonzeros, every round reported, the written model as reported", async () => {
    const common = ["-c", small.calibration, "--epsilon-gain", "0.1", "--workers", "0", "--json"];
    const plain = await run(["prune", small.model, ...common, "-o", path.join(tmp, "plain"), "--reweight", "0"]);
    const byDefault = await run(["prune", small.model, ...common, "-o", path.join(tmp, "default")]);
    const r = await run(["prune", small.model, ...common, "-o", path.join(tmp, "rw"), "--reweight", "2", "--reweight-delta", "0.2"]);
    expect(plain.code).toBe(0);
    expect(byDefault.code).toBe(0);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout), before = JSON.parse(plain.stdout), usual = JSON.parse(byDefault.stdout);
    expect(report.options.reweight).toEqual({ rounds: 2, delta: 0.2 });
    expect(usual.options.reweight).toEqual({ rounds: 3, delta: 0.1 });
    expect(before.options.reweight).toEqual({ rounds: 0, delta: 0.1 });
    for (const l of before.layers) expect(l.info.reweight).toBeUndefined();
    expect(report.total.nnzAfter).toBeLessThan(before.total.nnzAfter);
    expect(usual.total.nnzAfter).toBeLessThan(before.total.nnzAfter);
    for (const [dir, rep, rounds] of [["rw", report, 2], ["default", usual, 3]] as const) {
      const written = readLayersModelDir(path.join(tmp, dir, "model.json")).network;
      rep.layers.forEach((l: { nnzAfter: number; info: { reweight: { rounds: { nnz: number }[]; returned: number } } }, i: number) => {
        expect(l.info.reweight.rounds.length).toBe(rounds + 1);
        expect(l.info.reweight.rounds[l.info.reweight.returned].nnz).toBe(l.nnzAfter);
        const layer = written.layers[i];
        const nnz = [...layer.kernel, ...layer.bias].filter((v) => v !== 0).length;
        expect(nnz).toBe(l.nnzAfter);
      });
    }
  }, 300_000); // three runs of the 300-100-10 MLP

  it.each([
    [["--reweight=-1"], "--reweight: expected an integer from 0 to 20"],
    [["--reweight", "21"], "--reweight: expected an integer from 0 to 20"],
    [["--reweight", "1.5"], "--reweight: expected an integer from 0 to 20"],
    [["--reweight", "2", "--reweight-delta", "0"], "--reweight-delta: expected a number > 0"],
    [["--reweight", "0", "--reweight-delta", "0.1"], "--reweight-delta: only used with reweighting rounds"],
  ])("%j is refused: %s", async (args, message) => {
    const r = await run(["prune", small.model, "-c", small.calibration, "-o", path.join(tmp, "bad"), ...args]);
    expectOneLineError(r, 2, message);
  });

  it("on a model graph (the bundled CNN): every node reweighted, the written model as reported, fewer nonzeros than plain", async () => {
    const common = ["-c", calibJson, "--epsilon-gain", "0.1", "--max-iter", "300", "--workers", "0", "--threads", "1", "--json"];
    const plain = await run(["prune", CNN, ...common, "-o", path.join(tmp, "cnn-plain"), "--reweight", "0"]);
    const r = await run(["prune", CNN, ...common, "-o", path.join(tmp, "cnn-rw"), "--reweight", "2"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout), before = JSON.parse(plain.stdout);
    expect(report.options.reweight).toEqual({ rounds: 2, delta: 0.1 });
    expect(before.options.reweight).toEqual({ rounds: 0, delta: 0.1 });
    const readGraph = (dir: string): ModelGraph => {
      const bin = fs.readFileSync(path.join(dir, "weights.bin"));
      return parseLayersModelGraph(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    };
    const written = readGraph(path.join(tmp, "cnn-rw")).nodes.filter(isPrunable);
    expect(written.map((n) => n.name)).toEqual(["conv1", "conv2", "fc1", "logits"]);
    let kept = 0;
    written.forEach((n, i) => {
      const nnz = [...n.kernel, ...(n.bias ?? [])].filter((v) => v !== 0).length;
      kept += nnz;
      const l = report.layers[i];
      expect(l.nnzAfter).toBe(nnz);
      expect(l.info.reweight.rounds.length).toBe(3);
      expect(l.info.reweight.rounds[l.info.reweight.returned].nnz).toBe(nnz);
    });
    expect(report.total.nnzAfter).toBe(kept);
    expect(kept).toBeLessThan(0.8 * before.total.nnzAfter); // pruneGraph on 60 digits, 3 rounds, gain 0.1: 0.50 of plain; on 40: 0.52
  }, 120_000);
});

describe("net-trim prune --keep", () => {
  it("keeps the asked share of all weights (within 5%), counted on the written model", async () => {
    const out = path.join(tmp, "keep");
    // Plain l1: the share is what is tested here (reweighting multiplies every rung's solves).
    const r = await run(["prune", small.model, "-c", small.calibration, "-o", out, "--keep", "5%", "--max-iter", "300", "--reweight", "0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    // 100 samples against 300 inputs: the first layer keeps at most ~100 per neuron, so the share is small.
    expect(report.options.keep).toBe(0.05);
    expect(report.options.epsilonGain).toBeUndefined();
    const written = readLayersModelDir(path.join(out, "model.json")).network;
    let nnz = 0, all = 0;
    for (const l of written.layers) {
      nnz += [...l.kernel, ...l.bias].filter((v) => v !== 0).length;
      all += l.kernel.length + l.bias.length;
    }
    expect(Math.abs(nnz / all - 0.05)).toBeLessThanOrEqual(0.05 * 0.05);
    expect(report.keep.keptFraction).toBeCloseTo(nnz / all, 12);
    // Parallel mode: allocated per layer, every layer's ladder reported.
    expect(report.keep.allocation).toBe("per-layer");
    expect(report.keep.ladders.length).toBe(2);
    expect(report.keep.gains.length).toBe(2);
  }, 300_000); // every layer solved at several gains
});

