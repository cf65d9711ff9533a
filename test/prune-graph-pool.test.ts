// pruneGraph's parallel mode on the worker pool equals the same run in this thread (workers: 0),
// to the bit, on the bundled CNN and on a residual graph (Add, a folded BatchNorm, a depthwise
// node, a Dense node over the last axis, nodes sharing an input); progress per node; an abort
// returns the original graph, also when a worker has to be ended. The pool's conv and depthwise jobs equal pruneConvLayer and
// pruneDepthwiseConvLayer, hand their arrays over only when told, and a worker refuses a job
// with the same error (class, message, numbers) as this thread.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isPrunable, OutOfMemoryError, parseLayersModelGraph, pruneConvLayer, pruneDepthwiseConvLayer, pruneGraph, ValidationError,
  type GraphResult, type LayerInfo, type LayerResult, type ModelGraph, type NetworkProgress,
} from "../bindings/index.ts";
import { createLayerPool, type LayerPool } from "../bindings/workers/pool.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { mixedGraph, samples } from "./helpers/graphs.ts";
import { randomConvLayer, type ConvCase } from "./helpers/conv.ts";

const TIMING = new Set(["setupMs", "solveMs", "totalMs"]);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const untimed = (info: LayerInfo | undefined) => info && Object.fromEntries(Object.entries(info).filter(([k]) => !TIMING.has(k)));

/** Same weights, bias, statuses, budgets, iterations, infos and end-to-end error. */
function expectSameRun(pool: GraphResult, here: GraphResult) {
  expect(pool.status).toBe(here.status);
  expect(pool.graph.nodes.map((n) => n.name)).toEqual(here.graph.nodes.map((n) => n.name));
  pool.graph.nodes.forEach((n, i) => {
    const m = here.graph.nodes[i];
    if (!isPrunable(n) || !isPrunable(m)) return;
    expect(bits(n.kernel), n.name).toEqual(bits(m.kernel));
    if (m.bias) expect(bits(n.bias!), n.name).toEqual(bits(m.bias));
  });
  expect(pool.layers.map((l) => l.name)).toEqual(here.layers.map((l) => l.name));
  pool.layers.forEach((l, i) => {
    const h = here.layers[i];
    for (const k of ["status", "program", "nnzAfter", "epsilon", "relativeError", "iterations"] as const) expect(l[k], `${l.name}.${k}`).toBe(h[k]);
    expect(untimed(l.info)).toEqual(untimed(h.info));
    expect(l.channels?.map(untimed)).toEqual(h.channels?.map(untimed));
  });
  expect(pool.outputError).toEqual(here.outputError);
}

function readCnn(): ModelGraph {
  const dir = new URL("../models/mnist-cnn/", import.meta.url);
  const bytes = readFileSync(new URL("weights.bin", dir));
  return parseLayersModelGraph(JSON.parse(readFileSync(new URL("model.json", dir), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe("pruneGraph parallel on the pool = in this thread, bit for bit", () => {
  it("the bundled CNN (conv1, conv2, fc1, logits) on 40 digits, 2 workers; progress per node; the samples untouched", async () => {
    const graph = readCnn();
    const S = 40;
    const x = loadMnist().trainX.slice(0, S * 784);
    const before = x.slice();
    const options = { epsilonGain: 0.1 };
    const here = await pruneGraph(graph, { data: x, shape: [S, 28, 28, 1] }, { ...options, workers: 0 });
    const progress: NetworkProgress[] = [];
    const pool = await pruneGraph(graph, { data: x, shape: [S, 28, 28, 1] }, { ...options, workers: 2, onProgress: (p) => progress.push(p) });
    expect(here.execution).toEqual({ workers: 0, inThread: true, reason: "workers: 0" });
    expect(pool.execution).toEqual({ workers: 2, inThread: false });
    expect(here.layers.map((l) => [l.name, l.op, l.status])).toEqual([
      ["conv1", "conv2d", "solved"], ["conv2", "conv2d", "solved"], ["fc1", "dense", "solved"], ["logits", "dense", "solved"],
    ]);
    expectSameRun(pool, here);
    // One "done" per node, and every "solving" report names its node and index.
    const names = here.layers.map((l) => l.name);
    expect(progress.filter((p) => p.phase === "done").map((p) => p.name).sort()).toEqual([...names].sort());
    for (const p of progress) {
      expect(p.layers).toBe(4);
      expect(p.name).toBe(names[p.layer]);
    }
    expect(progress.filter((p) => p.phase === "solving").length).toBeGreaterThan(0);
    expect(x.length).toBe(S * 784); // not detached
    expect(bits(x)).toEqual(bits(before));
  });

  it("a residual graph (shared inputs, a folded BatchNorm, a depthwise node, Dense over the last axis) on 3 workers", async () => {
    const graph = mixedGraph();
    const S = 12;
    const x = samples(S, 72);
    const options = { epsilonGain: { a: 0.05, b: 0.1, c: 0.08, d: 0.08, dw: 0.1, pw: 0.1, e: 0.05, f: 0.05, g: 0.05 }, layerOptions: { maxIter: 300 } };
    const here = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { ...options, workers: 0 });
    const pool = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { ...options, workers: 3 });
    expect(pool.execution).toEqual({ workers: 3, inThread: false });
    expect(here.layers.find((l) => l.name === "dw")!.channels).toHaveLength(3);
    expectSameRun(pool, here);
  });

  it("cascade stays in this thread, and says why", async () => {
    const r = await pruneGraph(mixedGraph(), { data: samples(6, 72), shape: [6, 6, 6, 2] }, { mode: "cascade", workers: 2, layers: ["a", "b"] });
    expect(r.execution).toEqual({ workers: 0, inThread: true, reason: "cascade mode solves the layers in order" });
  });

  it("an abort mid-run stops every node on the pool (status aborted) and returns the original graph", async () => {
    const graph = mixedGraph();
    const controller = new AbortController();
    const r = await pruneGraph(graph, { data: samples(12, 72), shape: [12, 6, 6, 2] }, {
      workers: 2, signal: controller.signal,
      // Tolerances no solve meets: every node runs until it is aborted.
      layerOptions: { absTol: 1e-14, relTol: 1e-14, dualRelTol: 1e-14, maxIter: 1_000_000 },
      onProgress: (p) => { if (p.phase === "solving") controller.abort(); },
    });
    expect(r.status).toBe("aborted");
    r.graph.nodes.forEach((n, i) => expect(n).toBe(graph.nodes[i]));
    expect(r.outputError.measured).toBe(0);
    expect(r.foldedBatchNorms).toEqual([]);
    expect(r.layers.length).toBeGreaterThan(0);
    for (const l of r.layers) expect(l.status, l.name).toBe("aborted");
  });
  it("an abort while workers run one long check interval: it lands within a slice, every running node reports aborted, the original graph returned", async () => {
    // Before the solver ran long intervals in slices (controller.ts, SLICE_MS), a and b here could not
    // answer and were ended after the grace period; that path is now reached only by a worker stuck
    // in one wasm call (a setup), and is tested on the pool with a stuck worker (worker-pool.test.ts).
    const graph = mixedGraph();
    const controller = new AbortController();
    const started = performance.now();
    const r = await pruneGraph(graph, { data: samples(400, 72), shape: [400, 6, 6, 2] }, {
      workers: 3, signal: controller.signal, layers: ["a", "b", "g"],
      // g's budget admits zero weights: it returns at once, and 3 s after its "done" the run is
      // aborted (time for a and b's workers to start their interval of a million iterations).
      epsilonGain: { a: 0.01, b: 0.01, g: 2 },
      layerOptions: { absTol: 1e-14, relTol: 1e-14, dualRelTol: 1e-14, maxIter: 1_000_000, checkInterval: 1_000_000 },
      onProgress: (p) => { if (p.phase === "done") setTimeout(() => controller.abort(), 3000); },
    });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(r.status).toBe("aborted");
    r.graph.nodes.forEach((n, i) => expect(n).toBe(graph.nodes[i]));
    expect(r.layers.find((l) => l.name === "g")?.status).toBe("solved");
    for (const name of ["a", "b"]) {
      const l = r.layers.find((x) => x.name === name);
      expect(l?.status, name).toBe("aborted");
      expect(l!.info!.iterations, name).toBeLessThan(1_000_000);
    }
  });
});

describe("the pool's conv jobs", () => {
  let pool: LayerPool;
  beforeAll(async () => {
    pool = await createLayerPool({ size: 2 });
  });
  afterAll(async () => {
    await pool?.close();
  });
  const c: ConvCase = { kh: 3, kw: 3, sh: 2, sw: 1, dh: 1, dw: 2, padding: "same" };
  const geometry = { kernelSize: [3, 3] as const, strides: [2, 1] as const, dilation: [1, 2] as const, padding: "same" as const };

  function expectSameLayer(a: LayerResult, b: LayerResult) {
    expect(a.status).toBe(b.status);
    expect(bits(a.weights)).toEqual(bits(b.weights));
    expect(bits(a.bias)).toEqual(bits(b.bias));
    expect(untimed(a.info)).toEqual(untimed(b.info));
    expect(a.dual.u1).toEqual(b.dual.u1);
  }

  it("solveConv = pruneConvLayer and solveDepthwise = pruneDepthwiseConvLayer, bit for bit; the caller's arrays untouched", async () => {
    const p = randomConvLayer(41, [6, 9, 8, 3], 4, c);
    const input = { data: p.input, shape: p.inShape }, output = { data: p.output, shape: p.outShape };
    const options = { kind: "relu" as const, epsilonGain: 0.05, ...geometry };
    const [pooled, here] = await Promise.all([pool.solveConv({ input, output, options }), pruneConvLayer(input, output, options)]);
    expect(here.status).toBe("solved");
    expectSameLayer(pooled, here);

    const d = randomConvLayer(42, [5, 7, 7, 3], 6, { ...c, sh: 1 }, { linear: true });
    const dwInput = { data: d.input, shape: d.inShape }, dwOutput = { data: d.output, shape: d.outShape };
    const dwOptions = { kind: "linear" as const, epsilonGain: 0.1, ...geometry, strides: [1, 1] as const };
    const inputBefore = d.input.slice();
    const dwPooled = await pool.solveDepthwise({ input: dwInput, output: dwOutput, options: dwOptions });
    const dwHere = await pruneDepthwiseConvLayer(dwInput, dwOutput, dwOptions);
    expect(dwPooled.channels).toHaveLength(3);
    expect(dwPooled.status).toBe(dwHere.status);
    expect(bits(dwPooled.weights)).toEqual(bits(dwHere.weights));
    expect(bits(dwPooled.bias)).toEqual(bits(dwHere.bias));
    expect(dwPooled.outputError).toBe(dwHere.outputError);
    dwPooled.channels.forEach((ch, i) => expectSameLayer(ch, dwHere.channels[i]));
    expect(bits(d.input)).toEqual(bits(inputBefore));
  });

  it("detach: true hands the arrays over (detached here) and solves the same", async () => {
    const p = randomConvLayer(43, [4, 8, 8, 2], 3, c);
    const options = { kind: "relu" as const, epsilonGain: 0.05, ...geometry };
    const here = await pruneConvLayer({ data: p.input, shape: p.inShape }, { data: p.output, shape: p.outShape }, options);
    const input = p.input.slice(), output = p.output.slice();
    const pooled = await pool.solveConv({ input: { data: input, shape: p.inShape }, output: { data: output, shape: p.outShape }, options, detach: true });
    expect(input.length).toBe(0);
    expect(output.length).toBe(0);
    expectSameLayer(pooled, here);
  });

  it("threads: 2 on a conv layer: 2 threads in this thread, one (and why) as a pool job; the one-thread bits either way", async () => {
    const p = randomConvLayer(44, [3, 8, 8, 2], 3, c);
    const input = { data: p.input, shape: p.inShape }, output = { data: p.output, shape: p.outShape };
    const options = { kind: "relu" as const, epsilonGain: 0.05, ...geometry };
    const one = await pruneConvLayer(input, output, options);
    expect(one.info.threadsReason).toBeUndefined();
    const here = await pruneConvLayer(input, output, { ...options, threads: 2 });
    const pooled = await pool.solveConv({ input, output, options: { ...options, threads: 2 } });
    expect(here.info.threads).toBe(2);
    expect(pooled.info.threads).toBe(1);
    expect(pooled.info.threadsReason).toBe("only pruneConvLayer runs a conv layer on several threads (not pruneConvLayerWith or a pool job)");
    for (const r of [here, pooled]) {
      expect(bits(r.weights)).toEqual(bits(one.weights));
      expect(r.info.iterations).toBe(one.info.iterations);
    }
  });

  it("a worker refuses a job as this thread does: same class, message and numbers (memory; options)", async () => {
    // A 1×1 conv over 33,000 channels: its factored W-update needs 33,001² floats, more than 4 GiB.
    const N = 33_000;
    const input = { data: new Float32Array(N).fill(0.5), shape: [1, 1, 1, N] }, output = { data: Float32Array.of(1), shape: [1, 1, 1, 1] };
    const options = { kind: "linear" as const, epsilonGain: 0.1, kernelSize: 1, wUpdate: "factored" as const };
    const here = await pruneConvLayer(input, output, options).catch((e: unknown) => e);
    const pooled = await pool.solveConv({ input, output, options }).catch((e: unknown) => e);
    expect(here).toBeInstanceOf(OutOfMemoryError);
    expect(pooled).toBeInstanceOf(OutOfMemoryError);
    expect((pooled as Error).message).toBe((here as Error).message);
    expect((pooled as Error).message).toMatch(/needs [\d.]+ GiB/);
    expect({ ...(pooled as object) }).toEqual({ ...(here as object) });

    const bad = { ...options, wUpdate: undefined, strides: 0 };
    const hereBad = await pruneConvLayer(input, output, bad).catch((e: unknown) => e);
    const pooledBad = await pool.solveConv({ input, output, options: bad }).catch((e: unknown) => e);
    expect(hereBad).toBeInstanceOf(ValidationError);
    expect(pooledBad).toBeInstanceOf(ValidationError);
    expect((pooledBad as ValidationError).field).toBe((hereBad as ValidationError).field);
    expect((pooledBad as Error).message).toBe((hereBad as Error).message);
  });
});
