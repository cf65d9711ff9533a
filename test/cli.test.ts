// The command-line tool, run as a child process (cli/net-trim.ts bundled by helpers/cli-build.ts) on the bundled
// MNIST model (and, where its size does not matter, on its last two layers: helpers/small-mlp.ts)
// with calibration samples written to a temp dir as .npy (header built by hand per the NumPy
// format) and as JSON.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { npy } from "./helpers/npy.ts";
import { expectOneLineError, ROOT, run } from "./helpers/cli.ts";
import { SMALL_MLP_INPUTS, writeSmallMlp, type SmallMlp } from "./helpers/small-mlp.ts";
import { forward, parseLayersModel, type DenseNetwork } from "../bindings/index.ts";
import { readLayersModelDir } from "../bindings/node/files.ts";

const MODEL = path.join(ROOT, "models", "mnist-mlp", "model.json");

function readModel(dir: string): DenseNetwork {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const bin = fs.readFileSync(path.join(dir, "weights.bin"));
  return parseLayersModel(modelJson, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

const nonzeros = (a: Float32Array) => a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
const nnzOf = (n: DenseNetwork) => n.layers.reduce((s, l) => s + nonzeros(l.kernel) + nonzeros(l.bias), 0);

let tmp: string;
let calibNpy: string; // 300 training digits, float32
let calibration: Float32Array; // the first 100 of them (the prune below uses --samples 100)
const SAMPLES = 100;
let small: SmallMlp; // for speed, the bundled model's last two layers (300-100-10) on 200 rows of hidden1 activations (a float64 .npy)
let smallJson: string; // the first 100 of those rows
const original = readLayersModelDir(MODEL).network;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-"));
  const { trainX } = loadMnist();
  calibNpy = path.join(tmp, "calib.npy");
  fs.writeFileSync(calibNpy, npy(trainX.subarray(0, 300 * PIXELS), 300, PIXELS));
  calibration = trainX.slice(0, SAMPLES * PIXELS);
  small = writeSmallMlp(path.join(tmp, "small"), 200, "float64");
  smallJson = path.join(tmp, "small.json");
  const rows = Array.from({ length: 100 }, (_, r) => Array.from(small.activations.subarray(r * SMALL_MLP_INPUTS, (r + 1) * SMALL_MLP_INPUTS)));
  fs.writeFileSync(smallJson, JSON.stringify(rows));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim prune", () => {
  it("prunes the bundled model from a .npy file and writes model.json, weights.bin, masks.json, report.json", async () => {
    const out = path.join(tmp, "parallel", "nested"); // created if missing
    const r = await run(["prune", MODEL, "--calibration", calibNpy, "-o", out, "--samples", String(SAMPLES), "--max-iter", "200", "--epsilon-gain", "0.02,0.05,0.1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["masks.json", "model.json", "report.json", "weights.bin"]);

    // The table on stdout: a row per layer, the total and the guarantee line.
    for (const name of ["hidden1", "hidden2", "logits"]) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+(relu|linear)\\s+\\w+\\s+\\d+ → \\d+`, "m"));
    expect(r.stdout).toMatch(/^total: 266610 → \d+ nonzeros of 266610 parameters, [\d.]+% kept$/m);
    expect(r.stdout).toMatch(/^guarantee, Theorem 1 \(parallel\): measured end-to-end error .* bound .*: holds$/m);
    // Progress without a TTY: one line per finished layer, on stderr.
    for (const name of ["hidden1", "hidden2", "logits"]) expect(r.stderr).toMatch(new RegExp(`layer \\d/3 ${name} done`));
    expect(r.stderr).not.toContain("\r");

    // The written model loads, keeps the topology and has fewer nonzeros.
    const pruned = readModel(out);
    expect(pruned.layers.map((l) => [l.name, l.inputs, l.units, l.activation])).toEqual(original.layers.map((l) => [l.name, l.inputs, l.units, l.activation]));
    expect(nnzOf(pruned)).toBeLessThan(0.5 * nnzOf(original));
    expect(forward(pruned, new Float32Array(PIXELS).fill(0.5), 1)[2].every(Number.isFinite)).toBe(true);

    // masks.json marks exactly the nonzeros.
    const masks = JSON.parse(fs.readFileSync(path.join(out, "masks.json"), "utf8"));
    expect(masks.format).toBe("net-trim-masks");
    expect(masks.layers).toHaveLength(3);
    pruned.layers.forEach((l, i) => {
      const m = masks.layers[i];
      expect(m.name).toBe(l.name);
      expect(m.kernelShape).toEqual([l.inputs, l.units]);
      expect(m.kernel).toEqual(Array.from(l.kernel, (v) => (v !== 0 ? 1 : 0)));
      expect(m.bias).toEqual(Array.from(l.bias, (v) => (v !== 0 ? 1 : 0)));
    });

    // report.json: per-layer rows, totals, the guarantee and the options.
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report.options).toMatchObject({ mode: "parallel", epsilonGain: [0.02, 0.05, 0.1], maxIter: 200 });
    expect(report.calibration).toMatchObject({ samples: SAMPLES, features: 784 });
    expect(report.layers).toHaveLength(3);
    // Each layer's error recomputed here, on the original signals of the 100 samples (parallel mode).
    const originalSignals = [calibration, ...forward(original, calibration, SAMPLES)];
    const frob = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    report.layers.forEach((row: Record<string, number | string>, i: number) => {
      const l = pruned.layers[i];
      const single = { ...original, inputSize: original.layers[i].inputs, layers: [l], outputActivation: undefined };
      const out1 = forward(single, originalSignals[i], SAMPLES)[0];
      const target = originalSignals[i + 1];
      const relErr = frob(out1.map((v, k) => v - target[k])) / frob(target);
      expect(row.relativeError as number).toBeCloseTo(relErr, 4);
      expect(row.name).toBe(l.name);
      expect(row.nnzBefore).toBe(nonzeros(original.layers[i].kernel) + nonzeros(original.layers[i].bias));
      expect(row.nnzAfter).toBe(nonzeros(l.kernel) + nonzeros(l.bias));
      expect(row.nnzAfter).toBeLessThan(row.nnzBefore as number);
      expect(["solved", "solved_inaccurate", "max_iter_reached"]).toContain(row.status);
      expect(row.iterations).toBeGreaterThan(0);
      // The default 3 reweighting rounds: --max-iter holds for each of the 4 solves.
      const rounds = (row.info as unknown as { reweight: { rounds: { iterations: number }[] } }).reweight.rounds;
      expect(rounds.length).toBeGreaterThanOrEqual(1);
      for (const round of rounds) expect(round.iterations).toBeLessThanOrEqual(200);
      expect(row.iterations).toBe(rounds.reduce((a, r) => a + r.iterations, 0));
      if (row.status === "solved") expect(relErr).toBeLessThanOrEqual([0.02, 0.05, 0.1][i] * 1.001);
    });
    expect(report.total.nnzAfter).toBe(nnzOf(pruned));
    expect(report.guarantee.theorem).toBe("Theorem 1 (parallel)");
    // The end-to-end logit error, recomputed from the written model.
    const logitsBefore = originalSignals[3], logitsAfter = forward(pruned, calibration, SAMPLES)[2];
    const endToEnd = frob(logitsAfter.map((v, k) => v - logitsBefore[k]));
    expect(report.guarantee.measuredError).toBeCloseTo(endToEnd, 2);
    expect(endToEnd).toBeLessThanOrEqual(report.guarantee.bound);
    expect(report.guarantee.holds).toBe(true);
  });

  it("cascade mode from a JSON calibration file, --json prints report.json, --quiet silences stderr", async () => {
    const out = path.join(tmp, "cascade");
    const r = await run(["prune", small.model, "-c", smallJson, "-o", out, "--mode", "cascade", "--epsilon-gain", "0.03", "--gamma", "1.2", "--max-iter", "300", "--json", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")));
    expect(printed.options).toMatchObject({ mode: "cascade", epsilonGain: 0.03, gamma: 1.2, kappa: 1 });
    expect(printed.calibration).toMatchObject({ samples: 100, features: SMALL_MLP_INPUTS });
    expect(printed.guarantee.theorem).toBe("Theorem 2 (cascade)");
    expect(printed.layers.map((l: { name: string }) => l.name)).toEqual(["hidden2", "logits"]);
    expect(nnzOf(readModel(out))).toBe(printed.total.nnzAfter);
    expect(printed.total.nnzAfter).toBeLessThan(printed.total.nnzBefore);
  });

  it("--keep-per-layer maps to the density target; refuses to overwrite without --force", async () => {
    const out = path.join(tmp, "sparsity");
    const args = ["prune", small.model, "-c", small.calibration, "-o", out, "--keep-per-layer", "0.2,30%", "--max-iter", "300", "-q"];
    const r = await run(args);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report.options).toMatchObject({ mode: "parallel", density: [0.2, 0.3] });
    expect(report.options.epsilonGain).toBeUndefined();
    expect(report.layers).toHaveLength(2);
    expect(report.layers[0].keptFraction).toBeGreaterThan(0.1);
    expect(report.layers[0].keptFraction).toBeLessThan(0.3);
    expect(report.layers[1].keptFraction).toBeGreaterThan(0.2);
    expect(report.layers[1].keptFraction).toBeLessThan(0.4);

    const before = fs.readFileSync(path.join(out, "model.json"), "utf8");
    const again = await run(args);
    expectOneLineError(again, 1, "model.json already exists", "--force");
    expect(fs.readFileSync(path.join(out, "model.json"), "utf8")).toBe(before);
    const forced = await run([...args, "--force", "--keep-per-layer", "0.1"]); // the later --keep-per-layer wins
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).options.density).toBe(0.1);
  });

  it("Ctrl-C (SIGINT) aborts, exits 130 and writes nothing", async () => {
    const out = path.join(tmp, "interrupted");
    let sent = false;
    const r = await run(["prune", MODEL, "-c", calibNpy, "-o", out, "--mode", "cascade", "--epsilon-gain", "0.005", "--max-iter", "100000"], {
      onStderr: (text, child) => {
        if (!sent && text.includes("pruning")) {
          sent = true;
          setTimeout(() => child.kill("SIGINT"), 300);
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("nothing was written");
    expect(fs.existsSync(path.join(out, "model.json"))).toBe(false);
  });
});

describe("net-trim usage and errors", () => {
  it("--help and --version", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("net-trim prune <model.json> --calibration");
    for (const flag of ["--mode", "--epsilon-gain", "--keep", "--keep-per-layer", "--sparsity", "--gamma", "--kappa", "--max-iter", "--workers", "--samples", "--quiet", "--json", "--force"]) {
      expect(help.stdout).toContain(flag);
    }
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage:");
  });

  it("an unknown flag: exit 2, naming it", async () => {
    const r = await run(["prune", MODEL, "-c", calibNpy, "-o", path.join(tmp, "x"), "--epsilon", "0.1"]);
    expectOneLineError(r, 2, "unknown option --epsilon");
  });

  it("missing --calibration or -o, or a flag without its value: exit 2", async () => {
    expectOneLineError(await run(["prune", MODEL, "-o", path.join(tmp, "x")]), 2, "--calibration", "received nothing");
    expectOneLineError(await run(["prune", MODEL, "-c", calibNpy]), 2, "--out", "received nothing");
    expectOneLineError(await run(["prune", MODEL, "-o", path.join(tmp, "x"), "--calibration"]), 2, "--calibration", "expected a value");
    expectOneLineError(await run(["prune", "-c", calibNpy, "-o", path.join(tmp, "x")]), 2, "model");
  });

  it("bad numbers: exit 2, naming the flag, what was expected and what was received", async () => {
    const base = ["prune", MODEL, "-c", calibNpy, "-o", path.join(tmp, "x")];
    expectOneLineError(await run([...base, "--epsilon-gain", "abc"]), 2, "--epsilon-gain", "expected a number ≥ 0", '"abc"');
    expectOneLineError(await run([...base, "--epsilon-gain", "0.02,x,0.1"]), 2, "--epsilon-gain", '"x"', "item 2");
    expectOneLineError(await run([...base, "--epsilon-gain", "0.02,0.05"]), 2, "--epsilon-gain", "one per layer (3: hidden1, hidden2, logits)", "received 2 values");
    expectOneLineError(await run([...base, "--epsilon-gain", "-0.1"]), 2, "--epsilon-gain", '"-0.1"');
    expectOneLineError(await run([...base, "--keep-per-layer", "1.5"]), 2, "--keep-per-layer", "(0, 1]", '"1.5"');
    expectOneLineError(await run([...base, "--keep", "0"]), 2, "--keep", "(0, 1]", '"0"');
    // --sparsity is refused, saying which flag means what.
    expectOneLineError(await run([...base, "--sparsity", "0.1"]), 2, "--sparsity", "ambiguous", "--keep-per-layer 0.1", "--keep 0.1");
    expectOneLineError(await run([...base, "--keep", "0.1", "--epsilon-gain", "0.1"]), 2, "--keep", "one of --epsilon-gain, --keep, --keep-per-layer");
    expectOneLineError(await run([...base, "--max-iter", "10.5"]), 2, "--max-iter", "integer", '"10.5"');
    expectOneLineError(await run([...base, "--mode", "serial"]), 2, "--mode", "parallel or cascade", '"serial"');
    expectOneLineError(await run([...base, "--samples", "301"]), 2, "--samples", "at most 300", "301");
  });

  it("calibration with the wrong number of features: exit 1 with both numbers", async () => {
    const bad = path.join(tmp, "bad.npy");
    fs.writeFileSync(bad, npy(new Float32Array(20 * 783), 20, 783));
    expectOneLineError(await run(["prune", MODEL, "-c", bad, "-o", path.join(tmp, "x")]), 1, "783", "784");
    expect(fs.existsSync(path.join(tmp, "x"))).toBe(false);
  });

  it("a missing model or calibration file: exit 1 naming the file; NET_TRIM_DEBUG=1 adds the stack", async () => {
    const nowhere = path.join(tmp, "nowhere", "model.json");
    expectOneLineError(await run(["prune", nowhere, "-c", calibNpy, "-o", path.join(tmp, "x")]), 1, nowhere);
    expectOneLineError(await run(["prune", MODEL, "-c", path.join(tmp, "none.npy"), "-o", path.join(tmp, "x")]), 1, "none.npy");
    const debug = await run(["prune", nowhere, "-c", calibNpy, "-o", path.join(tmp, "x")], { env: { NET_TRIM_DEBUG: "1" } });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});
