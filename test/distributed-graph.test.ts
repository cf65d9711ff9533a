// Per-node jobs of a model graph without Redis: planGraph → solveJob / solveNext → mergeGraphResults
// equals pruneGraph's parallel mode on the pool bit for bit, on a residual graph (Add, a folded
// BatchNorm, a depthwise node solved as one job, a Dense node over the last axis, nodes sharing
// an input) and on the bundled CNN; refusals name the file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrunable, parseLayersModelGraph, pruneGraph, type GraphResult, type LayerInfo, type ModelGraph } from "../bindings/index.ts";
import { mergeGraphResults, mergeResults, planGraph, readLayersModelDir, solveJob, solveNext } from "../bindings/node/files.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { mixedGraph, samples } from "./helpers/graphs.ts";
import { ROOT } from "./helpers/cli.ts";

const TIMING = new Set(["setupMs", "solveMs", "totalMs"]);
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const untimed = (info: LayerInfo | undefined) => info && Object.fromEntries(Object.entries(info).filter(([k]) => !TIMING.has(k)));
const reportsOf = (r: GraphResult) => r.layers.map(({ timeMs: _t, info, channels, ...rest }) => ({ ...rest, info: untimed(info), channels: channels?.map(untimed) }));

/** Every node's arrays bit for bit, the reports (timings aside), the folded BatchNorms, the output error and the guarantee exactly. */
function expectSameAsInProcess(merged: GraphResult, inProcess: GraphResult) {
  expect(merged.graph.nodes.map((n) => n.name)).toEqual(inProcess.graph.nodes.map((n) => n.name));
  expect(merged.graph.inputs).toEqual(inProcess.graph.inputs);
  expect(merged.graph.outputs).toEqual(inProcess.graph.outputs);
  merged.graph.nodes.forEach((n, i) => {
    const m = inProcess.graph.nodes[i];
    expect(n.op).toBe(m.op);
    if (!isPrunable(n) || !isPrunable(m)) return expect(n).toEqual(m);
    expect(bits(n.kernel).equals(bits(m.kernel)), n.name).toBe(true);
    expect(n.bias === null ? null : bits(n.bias).equals(bits(m.bias!)), n.name).toBe(m.bias === null ? null : true);
  });
  expect(merged.status).toBe(inProcess.status);
  expect(reportsOf(merged)).toEqual(reportsOf(inProcess));
  expect(merged.foldedBatchNorms).toEqual(inProcess.foldedBatchNorms);
  expect(merged.outputError).toEqual(inProcess.outputError);
  expect(merged.guarantee).toBeDefined();
  expect(merged.guarantee).toEqual(inProcess.guarantee);
}

function readCnn(): ModelGraph {
  const dir = path.join(ROOT, "models", "mnist-cnn");
  const bytes = fs.readFileSync(path.join(dir, "weights.bin"));
  return parseLayersModelGraph(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const S = 12;
const mixed = mixedGraph();
const mixedInput = { data: samples(S, 72), shape: [S, 6, 6, 2] };
// Plain ℓ1 here; the reweighted plan (explicit rounds) and the default (the CNN test) have their own tests below.
const mixedOptions = { epsilonGain: { a: 0.05, b: 0.1, c: 0.08, d: 0.08, dw: 0.1, pw: 0.1, e: 0.05, f: 0.05, g: 0.05 }, layerOptions: { maxIter: 300, reweight: { rounds: 0 } } };
let tmp: string;
let mixedInProcess: GraphResult;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-distgraph-"));
  mixedInProcess = await pruneGraph(mixed, mixedInput, { mode: "parallel", workers: 2, ...mixedOptions });
  expect(mixedInProcess.foldedBatchNorms.length).toBeGreaterThan(0);
  expect(mixedInProcess.layers.find((l) => l.op === "depthwiseConv2d")?.channels?.length).toBeGreaterThan(1);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("planGraph → solve → mergeGraphResults", () => {
  it("a residual graph: one job per prunable node (the depthwise node one job), merged bit for bit as pruneGraph's parallel mode", async () => {
    const work = path.join(tmp, "mixed");
    const before = mixedInput.data.slice();
    const plan = await planGraph(mixed, mixedInput, mixedOptions, work);
    expect(mixedInput.data).toEqual(before);
    expect(plan.jobs).toBe(mixedInProcess.layers.length);
    expect(plan.manifest.kind).toBe("graph");
    expect(plan.manifest.layers.map((l) => [l.name, "op" in l ? l.op : "?"])).toEqual(mixedInProcess.layers.map((l) => [l.name, l.op]));
    for (const e of plan.manifest.layers) expect(e.memoryBytes).toBeGreaterThan(0);
    // Any order, one job twice (the same bytes), the rest by claims.
    const last = plan.jobs - 1;
    await solveJob(work, last);
    const first = fs.readFileSync(path.join(work, "results", `layer-${last}.json`));
    await solveJob(work, last);
    expect(fs.readFileSync(path.join(work, "results", `layer-${last}.json`)).equals(first)).toBe(true);
    while (await solveNext(work));
    expectSameAsInProcess(await mergeGraphResults(mixed, work), mixedInProcess);
  }, 120_000);

  it("with reweighting: the manifest holds it resolved, merged bit for bit as pruneGraph's parallel mode with reweight", async () => {
    const options = { ...mixedOptions, layerOptions: { maxIter: 300, reweight: { rounds: 2 } } };
    const inProcess = await pruneGraph(mixed, mixedInput, { mode: "parallel", workers: 2, ...options });
    const work = path.join(tmp, "mixed-reweight");
    const plan = await planGraph(mixed, mixedInput, options, work);
    expect(plan.manifest.options.layerOptions.reweight).toEqual({ rounds: 2, delta: 0.1 });
    for (const e of plan.manifest.layers) expect(e.solverOptions.reweight).toEqual({ rounds: 2, delta: 0.1 });
    while (await solveNext(work));
    const merged = await mergeGraphResults(mixed, work);
    expectSameAsInProcess(merged, inProcess);
    for (const l of merged.layers) for (const info of l.channels ?? [l.info!]) expect(info.reweight!.rounds.length, l.name).toBe(3);
  }, 120_000);

  it("the bundled CNN on 40 digits", async () => {
    const graph = readCnn();
    const input = { data: loadMnist().trainX.slice(0, 40 * 784), shape: [40, 28, 28, 1] };
    const inProcess = await pruneGraph(graph, input, { mode: "parallel", workers: 2, epsilonGain: 0.1 });
    const work = path.join(tmp, "cnn");
    const plan = await planGraph(graph, input, { epsilonGain: 0.1 }, work);
    expect(plan.manifest.layers.map((l) => l.name)).toEqual(["conv1", "conv2", "fc1", "logits"]);
    expect(plan.manifest.layers[0].input.file).toBe(plan.manifest.calibration.file);
    for (const i of [3, 1, 0, 2]) await solveJob(work, i);
    expectSameAsInProcess(await mergeGraphResults(graph, work), inProcess);
  }, 120_000);
});

describe("a graph plan's refusals", () => {
  const copy = (name: string) => {
    const to = path.join(tmp, name);
    fs.cpSync(path.join(tmp, "mixed"), to, { recursive: true });
    return to;
  };

  it("a weights file altered after the solve", async () => {
    const work = copy("corrupt");
    const file = path.join(work, "results", "layer-2.npy");
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0x40;
    fs.writeFileSync(file, bytes);
    await expect(mergeGraphResults(mixed, work)).rejects.toThrow(/layer-2\.npy: expected sha256 [0-9a-f]{64}, received sha256 [0-9a-f]{64} \(the file was altered or corrupted after the solve: run net-trim solve .* --layer 2 again\)/);
  });

  it("a missing result, the result of another problem", async () => {
    const work = copy("missing");
    fs.rmSync(path.join(work, "results", "layer-1.json"));
    await expect(mergeGraphResults(mixed, work)).rejects.toThrow(/results: expected a result for each of the \d+ jobs, received none for layer 1 \("b"\) \(run net-trim solve --work .* --layer 1, or --next\)/);
    for (const e of ["npy", "json"]) fs.copyFileSync(path.join(work, "results", `layer-0.${e}`), path.join(work, "results", `layer-1.${e}`));
    await expect(mergeGraphResults(mixed, work)).rejects.toThrow(/layer-1\.json: expected the result of layer 1 \("b", problem sha256 [0-9a-f]{12}…\), received a result of layer 0 \("a"/);
  });

  it("a plan made for another model, or of a chain", async () => {
    const other = mixedGraph();
    const node = other.nodes.find((n) => n.name === "b")!;
    if (!isPrunable(node)) throw new Error("b is a conv node");
    node.kernel[0] += 1e-3;
    const work = path.join(tmp, "mixed");
    await expect(mergeGraphResults(other, work)).rejects.toThrow(/manifest\.json: expected a plan of this model \(sha256 [0-9a-f]{12}…\), received a plan made for another model/);
    await expect(planGraph(other, mixedInput, mixedOptions, work)).rejects.toThrow(/manifest\.json: expected no plan or this one .* received a plan of another model/);
    const mlp = readLayersModelDir(path.join(ROOT, "models", "mnist-mlp", "model.json")).network;
    await expect(mergeResults(mlp, work)).rejects.toThrow(/manifest\.json: expected a plan of a Dense chain, received the plan of a model graph \(merge it with mergeGraphResults\)/);
  });

  it("cascade mode and options it cannot write", async () => {
    const work = path.join(tmp, "never");
    await expect(planGraph(mixed, mixedInput, { mode: "cascade" } as never, work)).rejects.toThrow(/options\.mode: expected "parallel" \(cascade mode/);
    await expect(planGraph(mixed, mixedInput, { gamma: 1.2 } as never, work)).rejects.toThrow(/options\.gamma: expected one of mode, epsilonGain, layerOptions, layers, replace/);
    await expect(planGraph(mixed, mixedInput, { layerOptions: { timeLimitMs: Infinity } }, work)).rejects.toThrow(/options\.layerOptions\.timeLimitMs: expected a finite number/);
    expect(fs.existsSync(work)).toBe(false);
  });
});
