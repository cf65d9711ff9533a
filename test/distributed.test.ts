// Per-layer jobs without Redis: plan → solve each layer (any order, one twice, one by --next
// claims) → merge equals pruneNetwork's parallel mode bit for bit on the bundled MLP; the
// folder's refusals (altered, foreign or missing results, another model) name the file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { pruneNetwork, type DenseNetwork, type NetworkResult } from "../bindings/index.ts";
import { mergeResults, planNetwork, readLayersModelDir, solveJob, solveNext } from "../bindings/node/files.ts";
import { ROOT } from "./helpers/cli.ts";

const P = 100; // any P gives the same comparisons; fewer samples than inputs keeps the solves short
const network = readLayersModelDir(path.join(ROOT, "models", "mnist-mlp", "model.json")).network;
const options = { epsilonGain: [0.05, 0.04, 0.03], layerOptions: { maxIter: 300 } };
let tmp: string;
let input: { data: Float32Array; rows: number; cols: number };
let inProcess: NetworkResult;

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const untimed = (r: NetworkResult) => r.layers.map(({ timeMs: _t, info: { setupMs: _a, solveMs: _b, totalMs: _c, ...info }, ...rest }) => ({ ...rest, info }));

/** The merged result equals in-process parallel mode: weights bit for bit, reports and guarantee exactly (timings aside). */
function expectSameAsInProcess(merged: NetworkResult) {
  merged.network.layers.forEach((l, i) => {
    expect(bits(l.kernel).equals(bits(inProcess.network.layers[i].kernel))).toBe(true);
    expect(bits(l.bias).equals(bits(inProcess.network.layers[i].bias))).toBe(true);
  });
  expect(merged.status).toBe(inProcess.status);
  expect(untimed(merged)).toEqual(untimed(inProcess));
  expect(merged.guarantee).toEqual(inProcess.guarantee);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-dist-"));
  input = { data: loadMnist().trainX.slice(0, P * PIXELS), rows: P, cols: PIXELS };
  inProcess = await pruneNetwork(network, input, { mode: "parallel", workers: 2, ...options });
  expect(inProcess.execution.workers).toBe(2);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("plan → solve → merge", () => {
  it("equals pruneNetwork's parallel mode bit for bit, whatever the order, solving a layer twice gives the same bytes", async () => {
    const work = path.join(tmp, "a");
    const plan = await planNetwork(network, input, options, work);
    expect(plan.jobs).toBe(3);
    expect(plan.manifest.layers.map((l) => l.input.shape)).toEqual([[P, 784], [P, 300], [P, 100]]);
    // Layer ℓ's target is layer ℓ+1's input: one file.
    expect(plan.manifest.layers[1].input.file).toBe(plan.manifest.layers[0].target.file);
    expect(plan.manifest.calibration.file).toBe(plan.manifest.layers[0].input.file);
    for (const i of [2, 0, 1]) expect((await solveJob(work, i)).written).toBe(true);
    const first = ["npy", "json"].map((e) => fs.readFileSync(path.join(work, "results", `layer-1.${e}`)));
    await solveJob(new URL(`file://${work}`), 1); // again, through a file:// URL
    const second = ["npy", "json"].map((e) => fs.readFileSync(path.join(work, "results", `layer-1.${e}`)));
    expect(second[0].equals(first[0])).toBe(true);
    expect(second[1].equals(first[1])).toBe(true);
    expectSameAsInProcess(await mergeResults(network, work));
  }, 120_000);

  it("planning again the same model and options leaves the folder (and its results) as it is", async () => {
    const work = path.join(tmp, "a");
    const before = fs.readFileSync(path.join(work, "manifest.json"));
    const again = await planNetwork(network, input, options, work);
    expect(again.written).toBe(false);
    expect(fs.readFileSync(path.join(work, "manifest.json")).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(work, "results", "layer-0.json"))).toBe(true);
  });

  it("--next claims: two solvers at once take different layers, then none is left", async () => {
    const work = path.join(tmp, "next");
    await planNetwork(network, input, options, work);
    const [a, b] = await Promise.all([solveNext(work), solveNext(work)]);
    expect([a!.layer, b!.layer].sort()).toEqual([0, 1]);
    expect((await solveNext(work))!.layer).toBe(2);
    expect(await solveNext(work)).toBeUndefined();
    expectSameAsInProcess(await mergeResults(network, work));
  }, 120_000);

  it("a stale claim (its solver died) is taken over; a live one is not", async () => {
    const work = path.join(tmp, "stale");
    // What is claimed is checked here, not what is solved: few samples and iterations.
    const quick = { ...options, layerOptions: { maxIter: 20 } };
    await planNetwork(network, { ...input, data: input.data.slice(0, 50 * PIXELS), rows: 50 }, quick, work);
    fs.mkdirSync(path.join(work, "claims"), { recursive: true });
    fs.writeFileSync(path.join(work, "claims", "layer-0.0"), "{}");
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(path.join(work, "claims", "layer-0.0"), old, old);
    fs.writeFileSync(path.join(work, "claims", "layer-1.0"), "{}"); // fresh: held
    const first = await solveNext(work, { staleAfterMs: 60_000 });
    expect(first!.layer).toBe(0);
    expect(fs.existsSync(path.join(work, "claims", "layer-0.1"))).toBe(true);
    expect((await solveNext(work, { staleAfterMs: 60_000 }))!.layer).toBe(2);
    expect(await solveNext(work, { staleAfterMs: 60_000 })).toBeUndefined();
  }, 120_000);
});

describe("merge refuses, naming the file", () => {
  const copy = (name: string) => {
    const to = path.join(tmp, name);
    fs.cpSync(path.join(tmp, "a"), to, { recursive: true });
    return to;
  };

  it("a weights file altered after the solve", async () => {
    const work = copy("corrupt");
    const file = path.join(work, "results", "layer-1.npy");
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0x40;
    fs.writeFileSync(file, bytes);
    await expect(mergeResults(network, work)).rejects.toThrow(/layer-1\.npy: expected sha256 [0-9a-f]{64}, received sha256 [0-9a-f]{64} \(the file was altered or corrupted after the solve: run net-trim solve .* --layer 1 again\)/);
  });

  it("a result record altered, or cut short", async () => {
    const work = copy("edited");
    const file = path.join(work, "results", "layer-0.json");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.replace(/"status": "[a-z_]+"/, '"status": "solved_inaccurate"'));
    await expect(mergeResults(network, work)).rejects.toThrow(/layer-0\.json: expected a layer result whose sha256 matches its content, received content of sha256/);
    fs.writeFileSync(file, text.slice(0, 100));
    await expect(mergeResults(network, work)).rejects.toThrow(/layer-0\.json: expected a layer result, received a file that is not valid JSON/);
  });

  it("a missing result", async () => {
    const work = copy("missing");
    fs.rmSync(path.join(work, "results", "layer-2.json"));
    await expect(mergeResults(network, work)).rejects.toThrow(/results: expected a result for each of the 3 layers, received none for layer 2 \("logits"\) \(run net-trim solve --work .* --layer 2, or --next\)/);
  });

  it("the result of another problem", async () => {
    const work = copy("foreign");
    for (const e of ["npy", "json"]) fs.copyFileSync(path.join(work, "results", `layer-2.${e}`), path.join(work, "results", `layer-1.${e}`));
    await expect(mergeResults(network, work)).rejects.toThrow(/layer-1\.json: expected the result of layer 1 \("hidden2", problem sha256 [0-9a-f]{12}…\), received a result of layer 2 \("logits"/);
  });

  it("a plan made for another model", async () => {
    const other: DenseNetwork = { ...network, layers: network.layers.map((l, i) => (i === 1 ? { ...l, bias: l.bias.map((b) => b + 1e-3) } : l)) };
    await expect(mergeResults(other, path.join(tmp, "a"))).rejects.toThrow(/manifest\.json: expected a plan of this model \(sha256 [0-9a-f]{12}…\), received a plan made for another model/);
    await expect(planNetwork(other, input, options, path.join(tmp, "a"))).rejects.toThrow(/manifest\.json: expected no plan or this one .* received a plan of another model .*use another folder, or replace it/);
  });

  it("plan options it cannot split into jobs", async () => {
    const work = path.join(tmp, "never");
    await expect(planNetwork(network, input, { mode: "cascade" } as never, work)).rejects.toThrow(/options\.mode: expected "parallel" \(cascade mode/);
    await expect(planNetwork(network, input, { density: 0.1 } as never, work)).rejects.toThrow(/options\.density: expected one of mode, epsilonGain, layerOptions, replace/);
    await expect(planNetwork(network, input, { layerOptions: { timeLimitMs: Infinity } }, work)).rejects.toThrow(/options\.layerOptions\.timeLimitMs: expected a finite number/);
    expect(fs.existsSync(work)).toBe(false);
  });
});
