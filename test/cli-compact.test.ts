// `net-trim prune --compact`: model.ntz written next to the TF.js files, holding exactly the
// pruned weights written there (float32) or their float16 rounding; a .ntz model read back (chosen
// by its magic bytes) and written back as model.ntz; a corrupted .ntz refused in one line.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCompact, decodeCompactNetwork, encodeCompact, parseLayersModel, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";
import { npy, npyOfShape } from "./helpers/npy.ts";

const SAMPLES = 40;
let tmp: string;
let flat: string;
let images: string;

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const readFile = (file: string) => new Uint8Array(fs.readFileSync(file));

function readTfjs(dir: string): { modelJson: unknown; weights: ArrayBuffer } {
  const bin = fs.readFileSync(path.join(dir, "weights.bin"));
  return { modelJson: JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), weights: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) };
}

const weightsOf = (g: ModelGraph) => g.nodes.flatMap((n) => Object.values(n).filter((v): v is Float32Array => v instanceof Float32Array).map(bitsOf));

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-compact-"));
  const x = loadMnist().trainX.slice(0, SAMPLES * PIXELS);
  flat = path.join(tmp, "flat.npy");
  fs.writeFileSync(flat, npy(x, SAMPLES, PIXELS));
  images = path.join(tmp, "images.npy");
  fs.writeFileSync(images, npyOfShape(x, [SAMPLES, 28, 28, 1]));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim prune --compact", () => {
  it("a Dense chain: model.ntz decodes to the network written to model.json, bit for bit", async () => {
    const out = path.join(tmp, "mlp");
    const r = await run(["prune", path.join(ROOT, "models", "mnist-mlp"), "-c", flat, "-o", out, "--epsilon-gain", "0.3", "--max-iter", "60", "--workers", "0", "--compact", "-q"]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["masks.json", "model.json", "model.ntz", "report.json", "weights.bin"]);
    expect(r.stdout).toContain(path.join(out, "model.ntz"));
    const { modelJson, weights } = readTfjs(out);
    const written = parseLayersModel(modelJson, weights);
    const compact = decodeCompactNetwork(readFile(path.join(out, "model.ntz")));
    expect(compact.layers.map((l) => [l.name, bitsOf(l.kernel), bitsOf(l.bias)])).toEqual(written.layers.map((l) => [l.name, bitsOf(l.kernel), bitsOf(l.bias)]));
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report.output.files).toContain("model.ntz");
  });

  it("a graph with --compact-float16, then that model.ntz pruned again: read by its content, written back as model.ntz", async () => {
    const out = path.join(tmp, "cnn");
    const args = ["-c", images, "--epsilon-gain", "0.2", "--max-iter", "40", "-q"];
    const r = await run(["prune", path.join(ROOT, "models", "mnist-cnn", "model.json"), "-o", out, "--compact-float16", ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["masks.json", "model.json", "model.ntz", "report.json", "weights.bin"]);
    const { modelJson, weights } = readTfjs(out);
    const written = parseLayersModelGraph(modelJson, weights);
    const ntz = readFile(path.join(out, "model.ntz"));
    expect(Array.from(ntz)).toEqual(Array.from(encodeCompact(written, { values: "float16" })));

    const renamed = path.join(tmp, "pruned-once.bin"); // not named .ntz: the magic bytes decide
    fs.copyFileSync(path.join(out, "model.ntz"), renamed);
    const again = path.join(tmp, "again");
    const r2 = await run(["prune", renamed, "-o", again, ...args]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(fs.readdirSync(again).sort()).toEqual(["masks.json", "model.ntz", "report.json"]);
    const twice = decodeCompact(readFile(path.join(again, "model.ntz")));
    expect(twice.nodes.map((n) => n.name)).toEqual(written.nodes.map((n) => n.name));
    const masks = JSON.parse(fs.readFileSync(path.join(again, "masks.json"), "utf8"));
    const kernels = twice.nodes.flatMap((n) => (n.op === "conv2d" || n.op === "dense" ? [n.kernel] : []));
    expect(masks.layers.map((l: { kernel: number[] }) => l.kernel)).toEqual(kernels.map((k) => Array.from(k, (v) => (v !== 0 ? 1 : 0))));
    expect(weightsOf(twice).length).toBe(weightsOf(written).length);
  });

  it("a corrupted .ntz: one line naming the checksum, exit 1", async () => {
    const good = encodeCompact(parseLayersModelGraph(readTfjs(path.join(ROOT, "models", "mnist-cnn")).modelJson, readTfjs(path.join(ROOT, "models", "mnist-cnn")).weights));
    good[1000] ^= 4;
    const bad = path.join(tmp, "bad.ntz");
    fs.writeFileSync(bad, good);
    expectOneLineError(await run(["prune", bad, "-c", images, "-o", path.join(tmp, "bad-out")]), 1, "compact model checksum (bytes 28..31): the file is corrupted");
  });
});
