// `net-trim prune` on a model that is not a chain of Dense layers: the bundled CNN, with image
// calibration [n, 28, 28, 1] or flattened [n, 784]. Checked from the written files: the nonzeros
// per layer, masks.json and the end-to-end error recomputed with our forward pass.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forwardGraph, onnxToGraphLayout, parseLayersModelGraph, parseOnnxModel, type ModelGraph } from "../bindings/index.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { expectOneLineError, ROOT, run, type Run } from "./helpers/cli.ts";
import { npy, npyOfShape } from "./helpers/npy.ts";
import { gaussian } from "./helpers/problems.ts";

const MODEL = path.join(ROOT, "models", "mnist-cnn", "model.json");
const SAMPLES = 40; // 40 × 576 = 23,040 rows for conv1: the same checks, half the solve time of 80

function readGraph(dir: string): ModelGraph {
  const bin = fs.readFileSync(path.join(dir, "weights.bin"));
  return parseLayersModelGraph(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

const nonzeros = (a: Float32Array | null) => (a ? a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0) : 0);

let tmp: string;
let images: string;
let flat: string;
let x: Float32Array;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-graph-"));
  x = loadMnist().trainX.slice(0, SAMPLES * PIXELS);
  images = path.join(tmp, "images.npy");
  fs.writeFileSync(images, npyOfShape(x, [SAMPLES, 28, 28, 1]));
  flat = path.join(tmp, "flat.npy");
  fs.writeFileSync(flat, npy(x, SAMPLES, PIXELS));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// One cascade run on the default threads, shared by the first test (files against report) and the
// --threads test (its "default" side): started by whichever test comes first.
let cascadeRun: Promise<Run> | undefined;
const cascadeOnDefaultThreads = () => (cascadeRun ??= run(["prune", MODEL, "-c", images, "-o", path.join(tmp, "cascade"), "--mode", "cascade", "--epsilon-gain", "0.1", "--max-iter", "200", "-q"]));

describe("net-trim prune on the bundled CNN", () => {
  it("writes the pruned graph, its masks and a report that the files bear out", async () => {
    const out = path.join(tmp, "cascade");
    const r = await cascadeOnDefaultThreads();
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["masks.json", "model.json", "report.json", "weights.bin"]);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    const pruned = readGraph(out);
    const original = readGraph(path.dirname(MODEL));
    const layers = pruned.nodes.filter((n) => n.op === "conv2d" || n.op === "dense");
    expect(layers.map((n) => n.name)).toEqual(["conv1", "conv2", "fc1", "logits"]);
    expect(report.layers.map((l: { name: string }) => l.name)).toEqual(["conv1", "conv2", "fc1", "logits"]);
    const masks = JSON.parse(fs.readFileSync(path.join(out, "masks.json"), "utf8"));
    let kept = 0;
    layers.forEach((n, i) => {
      if (n.op !== "conv2d" && n.op !== "dense") return;
      const nnz = nonzeros(n.kernel) + nonzeros(n.bias);
      kept += nnz;
      expect(report.layers[i].nnzAfter).toBe(nnz);
      expect(masks.layers[i].nnz).toBe(nnz);
      expect(masks.layers[i].kernel).toEqual(Array.from(n.kernel, (v) => (v !== 0 ? 1 : 0)));
    });
    expect(kept).toBeLessThan(0.9 * 34622); // a gain of 0.1 prunes (measured: about half kept)
    expect(report.total.nnzAfter).toBe(kept);
    // The end-to-end error, recomputed from the written files on the calibration images.
    const a = forwardGraph(original, [x], SAMPLES).outputs[0], b = forwardGraph(pruned, [x], SAMPLES).outputs[0];
    let diff = 0, norm = 0;
    for (let i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) ** 2;
      norm += a[i] * a[i];
    }
    expect(Math.abs(Math.sqrt(diff / norm) - report.outputError.relative)).toBeLessThanOrEqual(1e-4 * report.outputError.relative);
    expect(r.stdout).toContain("measured end-to-end error");
    // Cascade: the nodes' measured errors, propagated through the pooling and flatten; in the report and the table.
    const g = report.guarantee;
    expect(g.theorem).toBe("cascade: measured node errors, on the graph");
    expect(g.holds).toBe(true);
    expect(g.relativeError).toBeCloseTo(report.outputError.relative, 9);
    expect(report.guaranteeAbsent).toBeUndefined();
    expect(r.stdout).toContain(`guarantee, cascade: measured node errors, on the graph: measured end-to-end error ${g.measuredError.toPrecision(4)}`);
  });

  it("flattened calibration [n, 784] gives the same bytes as images [n, 28, 28, 1]", async () => {
    const args = (calib: string, out: string) => ["prune", MODEL, "-c", calib, "-o", out, "--epsilon-gain", "0.1", "--max-iter", "200", "-q"];
    const [one, two] = [path.join(tmp, "from-images"), path.join(tmp, "from-flat")];
    expect((await run(args(images, one))).code).toBe(0);
    expect((await run(args(flat, two))).code).toBe(0);
    expect(fs.readFileSync(path.join(one, "weights.bin")).equals(fs.readFileSync(path.join(two, "weights.bin")))).toBe(true);
  });

  it("--threads: cascade on 1 thread per layer writes the same bytes as the default (the CPU threads); bad counts refused", async () => {
    const args = (out: string, extra: string[]) => ["prune", MODEL, "-c", images, "-o", out, "--mode", "cascade", "--epsilon-gain", "0.1", "--max-iter", "200", "-q", ...extra];
    const [one, auto] = [path.join(tmp, "threads-1"), path.join(tmp, "cascade")];
    expect((await run(args(one, ["--threads", "1"]))).code).toBe(0);
    const r = await cascadeOnDefaultThreads();
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(one, "weights.bin")).equals(fs.readFileSync(path.join(auto, "weights.bin")))).toBe(true);
    const threads = JSON.parse(fs.readFileSync(path.join(auto, "report.json"), "utf8")).layers.map((l: { info?: { threads?: number } }) => l.info?.threads);
    if (os.availableParallelism() > 1) expect(threads.slice(0, 3)).toEqual([os.availableParallelism(), os.availableParallelism(), os.availableParallelism()]);
    const out = path.join(tmp, "threads-refused");
    expectOneLineError(await run(["prune", MODEL, "-c", images, "-o", out, "--threads", "0"]), 2, "--threads", "an integer from 1 to 256");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("--threads on a chain of Dense layers: cascade on 2 threads per layer writes the bytes of 1", async () => {
    const chain = path.join(ROOT, "models", "mnist-mlp", "model.json");
    const args = (out: string, n: string) => ["prune", chain, "-c", flat, "-o", out, "--mode", "cascade", "--epsilon-gain", "0.1", "--max-iter", "200", "-q", "--threads", n];
    const [one, two] = [path.join(tmp, "chain-threads-1"), path.join(tmp, "chain-threads-2")];
    for (const [out, n] of [[one, "1"], [two, "2"]]) {
      const r = await run(args(out, n));
      expect(r.code, r.stderr).toBe(0);
    }
    expect(fs.readFileSync(path.join(one, "weights.bin")).equals(fs.readFileSync(path.join(two, "weights.bin")))).toBe(true);
    const threadsOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")).layers.map((l: { info?: { threads?: number } }) => l.info?.threads);
    expect(threadsOf(one)).toEqual([1, 1, 1]);
    expect(threadsOf(two).slice(0, 2)).toEqual([2, 2]);
  });

  it("refuses what the graph path cannot do, by flag, before any work", async () => {
    const out = path.join(tmp, "refused");
    expectOneLineError(await run(["prune", MODEL, "-c", images, "-o", out, "--keep", "0.2", "--keep-allocation", "per-layer", "--mode", "cascade"]), 2,
      "--keep-allocation", "common-gain in cascade mode", "received per-layer");
    expectOneLineError(await run(["prune", MODEL, "-c", images, "-o", out, "--keep-per-layer", "0.2,0.3"]), 2,
      "--keep-per-layer", "one per prunable layer (4: conv1, conv2, fc1, logits)", "received 2");
    expectOneLineError(await run(["prune", MODEL, "-c", images, "-o", out, "--epsilon-gain", "0.1,0.2"]), 2,
      "--epsilon-gain", "one per prunable layer (4: conv1, conv2, fc1, logits)", "received 2");
    const wrong = path.join(tmp, "wrong.npy");
    fs.writeFileSync(wrong, npy(new Float32Array(4 * 783), 4, 783));
    expectOneLineError(await run(["prune", MODEL, "-c", wrong, "-o", out]), 1, "[783]", "[28, 28, 1]", "784 features");
    const nchw = path.join(tmp, "nchw.npy");
    fs.writeFileSync(nchw, npyOfShape(x.subarray(0, 4 * PIXELS), [4, 1, 28, 28]));
    expectOneLineError(await run(["prune", MODEL, "-c", nchw, "-o", out]), 1, "[1, 28, 28]", "[28, 28, 1]");
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("--keep-per-layer and --keep on the bundled CNN (conv layers counted)", () => {
  const TOLERANCE = 0.05; // pruneGraph's default densityTolerance, which the CLI uses
  const countedLayers = (dir: string) => readGraph(dir).nodes.flatMap((n) =>
    n.op === "conv2d" || n.op === "dense" ? [{ name: n.name, nnz: nonzeros(n.kernel) + nonzeros(n.bias), parameters: n.kernel.length + (n.bias ? n.bias.length : 0) }] : []);

  /** --keep 0.1 run with `flags`: the share of all weights counted in the written weights, within the tolerance and as reported. */
  const keepRun = async (out: string, allocation: string, flags: string[]) => {
    // Plain l1 (--reweight 0): this checks the CLI's keep plumbing; keep with reweighting is pruneGraph's tests'.
    const r = await run(["prune", MODEL, "-c", images, "-o", out, "--keep", "0.1", "--max-iter", "200", "--reweight", "0", ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    const layers = countedLayers(out);
    const share = layers.reduce((a, l) => a + l.nnz, 0) / layers.reduce((a, l) => a + l.parameters, 0);
    expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(TOLERANCE * 0.1);
    expect(report.keep.keptFraction).toBeCloseTo(share, 12);
    expect(report.keep.allocation).toBe(allocation);
    return { r, report, share };
  };

  it("--keep-per-layer: every layer's kept fraction, counted in the written weights, within the tolerance; the report and table say the targets", async () => {
    const out = path.join(tmp, "keep-per-layer");
    const targets = [0.5, 0.3, 0.08, 0.2];
    const r = await run(["prune", MODEL, "-c", images, "-o", out, "--keep-per-layer", targets.join(","), "--max-iter", "200", "--reweight", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report.options.density).toEqual({ conv1: 0.5, conv2: 0.3, fc1: 0.08, logits: 0.2 });
    countedLayers(out).forEach((l, i) => {
      expect(report.layers[i].nnzAfter).toBe(l.nnz);
      expect(report.layers[i].targetKeptFraction).toBe(targets[i]);
      expect(Math.abs(l.nnz / l.parameters - targets[i]), l.name).toBeLessThanOrEqual(TOLERANCE * targets[i]);
    });
    expect(r.stdout).toContain("target %");
    expect(r.stderr).toContain("keeping 50%,30%,8%,20% of the layers' weights");
  });

  it("--keep: allocated per layer in parallel mode; the share of all weights kept, counted in the written weights, within the tolerance and in the report", async () => {
    const out = path.join(tmp, "keep-per-layer-allocation");
    const { r, report, share } = await keepRun(out, "per-layer", []);
    expect(new Set(report.keep.gains).size).toBeGreaterThan(1);
    expect(report.options).toMatchObject({ keep: 0.1, keepAllocation: "per-layer" });
    expect(r.stdout).toContain(`${(100 * share).toFixed(2)}% kept at per-layer gains`);
    expect(r.stderr).toContain("allocated across layers");
    // Parallel: the Theorem 1 guarantee on the graph, its measured error the written files' (no BatchNorm to fold).
    const g = report.guarantee;
    expect(g.holds).toBe(true);
    expect(g.relativeError).toBeCloseTo(report.outputError.relative, 9);
    expect(g.perNode.map((p: { name: string }) => p.name)).toEqual(["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "logits"]);
    expect(r.stdout).toContain(`guarantee, Theorem 1 (parallel), on the graph: measured end-to-end error ${g.measuredError.toPrecision(4)} (relative ${g.relativeError.toFixed(4)}) ≤ bound ${g.bound.toPrecision(4)}: holds`);
  });

  it("--keep --keep-allocation common-gain: one gain for every layer, the share within the tolerance and in the report", async () => {
    const out = path.join(tmp, "keep");
    const { r, report, share } = await keepRun(out, "common-gain", ["--keep-allocation", "common-gain", "--workers", "1"]);
    expect(report.options).toMatchObject({ keep: 0.1, keepAllocation: "common-gain" });
    expect(r.stdout).toContain(`${(100 * share).toFixed(2)}% kept at one gain for every layer`);
  });
});

describe("net-trim prune on an ONNX model (chosen by content, whatever the file is named)", () => {
  // Three input channels, so that NCHW and NHWC orders differ.
  const ONNX = path.join(ROOT, "test", "fixtures", "onnx", "branches-opset13.onnx");
  const readOnnx = (file: string) => parseOnnxModel(new Uint8Array(fs.readFileSync(file)));

  it("writes model.onnx, dense or with sparse initializers, holding the same pruned weights", async () => {
    // The model's own layout: NCHW [n, 3, 8, 8], as a PyTorch user holds the samples.
    const g = gaussian(5);
    const nchw = Float32Array.from({ length: 60 * 192 }, () => g());
    const calib = path.join(tmp, "nchw-8.npy");
    fs.writeFileSync(calib, npyOfShape(nchw, [60, 3, 8, 8]));
    const renamed = path.join(tmp, "model.bin"); // not named .onnx: the content decides
    fs.copyFileSync(ONNX, renamed);
    const [dense, sparse] = [path.join(tmp, "onnx-dense"), path.join(tmp, "onnx-sparse")];
    const r1 = await run(["prune", renamed, "-c", calib, "-o", dense, "--epsilon-gain", "0.2", "-q"]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(fs.readdirSync(dense).sort()).toEqual(["masks.json", "model.onnx", "report.json"]);
    const r2 = await run(["prune", renamed, "-c", calib, "-o", sparse, "--epsilon-gain", "0.2", "-q", "--sparse-initializers"]);
    expect(r2.code, r2.stderr).toBe(0);
    const a = readOnnx(path.join(dense, "model.onnx")).graph, b = readOnnx(path.join(sparse, "model.onnx")).graph;
    expect(fs.statSync(path.join(sparse, "model.onnx")).size).toBeLessThan(fs.statSync(path.join(dense, "model.onnx")).size);
    const report = JSON.parse(fs.readFileSync(path.join(dense, "report.json"), "utf8"));
    const prunable = a.nodes.filter((n) => n.op === "conv2d" || n.op === "dense");
    expect(prunable.length).toBe(report.layers.length);
    prunable.forEach((n, i) => {
      const m = b.nodes.find((k) => k.name === n.name)!;
      if ((n.op !== "conv2d" && n.op !== "dense") || (m.op !== "conv2d" && m.op !== "dense")) return;
      expect(Buffer.from(m.kernel.buffer).equals(Buffer.from(n.kernel.buffer))).toBe(true);
      expect(report.layers[i].nnzAfter).toBe(nonzeros(n.kernel) + nonzeros(n.bias));
    });
    expect(report.total.nnzAfter).toBeLessThan(report.total.nnzBefore);
    // The samples reached the solver in the graph's NHWC order: the reported error is the one of
    // the written model on the converted samples (a run on unconverted samples reports another).
    const original = readOnnx(ONNX);
    const nhwc = onnxToGraphLayout(original.source.inputs[0], nchw, 60);
    const y = forwardGraph(original.graph, [nhwc], 60).outputs[0], yHat = forwardGraph(a, [nhwc], 60).outputs[0];
    let diff = 0, norm = 0;
    for (let i = 0; i < y.length; i++) {
      diff += (y[i] - yHat[i]) ** 2;
      norm += y[i] * y[i];
    }
    expect(Math.abs(Math.sqrt(diff / norm) - report.outputError.relative)).toBeLessThanOrEqual(1e-4 * report.outputError.relative);
    // The same samples in NHWC order are another layout of the same size: refused.
    const nhwcFile = path.join(tmp, "nhwc-8.npy");
    fs.writeFileSync(nhwcFile, npyOfShape(new Float32Array(4 * 192), [4, 8, 8, 3]));
    expectOneLineError(await run(["prune", renamed, "-c", nhwcFile, "-o", path.join(tmp, "x")]), 1, "[8, 8, 3]", "[3, 8, 8]");
  });
});
