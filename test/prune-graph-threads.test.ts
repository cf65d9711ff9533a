// pruneGraph with options.threads: the nodes solved in this thread (cascade, or parallel with
// workers: 0) split their iterations over the threads, with the one-thread run's bits (weights,
// statuses, iterations, budgets, the end-to-end error); bad counts are refused by name.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isPrunable, parseLayersModelGraph, pruneGraph, ValidationError, type GraphResult, type ModelGraph } from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function readCnn(): ModelGraph {
  const dir = new URL("../models/mnist-cnn/", import.meta.url);
  const bytes = readFileSync(new URL("weights.bin", dir));
  return parseLayersModelGraph(JSON.parse(readFileSync(new URL("model.json", dir), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function expectSameBits(many: GraphResult, one: GraphResult) {
  expect(many.status).toBe(one.status);
  many.graph.nodes.forEach((n, i) => {
    const m = one.graph.nodes[i];
    if (!isPrunable(n) || !isPrunable(m)) return;
    expect(bits(n.kernel), n.name).toEqual(bits(m.kernel));
    if (m.bias) expect(bits(n.bias!), n.name).toEqual(bits(m.bias));
  });
  many.layers.forEach((l, i) => {
    for (const k of ["status", "nnzAfter", "epsilon", "relativeError", "iterations"] as const) expect(l[k], `${l.name}.${k}`).toBe(one.layers[i][k]);
  });
  expect(many.outputError).toEqual(one.outputError);
}

describe("pruneGraph with threads", () => {
  const graph = readCnn();
  const S = 40;
  const x = { data: loadMnist().trainX.slice(0, S * 784), shape: [S, 28, 28, 1] };

  it.each(["cascade", "parallel"] as const)("%s on the bundled CNN in this thread: 2 threads per node give the 1-thread bits", async (mode) => {
    const options = { mode, epsilonGain: 0.1, workers: 0, layerOptions: { maxIter: 400 } };
    const one = await pruneGraph(graph, x, options);
    const two = await pruneGraph(graph, x, { ...options, threads: 2 });
    expectSameBits(two, one);
    const threadsOf = (r: GraphResult) => Object.fromEntries(r.layers.map((l) => [l.name, l.info!.threads]));
    expect(threadsOf(one)).toEqual({ conv1: 1, conv2: 1, fc1: 1, logits: 1 });
    // conv1, conv2 and fc1 run on 2 threads; the logits may take the reduced form, which runs on one (and says so).
    expect(threadsOf(two)).toMatchObject({ conv1: 2, conv2: 2, fc1: 2 });
    const logits = two.layers.find((l) => l.name === "logits")!.info!;
    if (logits.threads === 1) expect(logits.threadsReason).toContain("reduced form");
  });

  it("refuses a thread count that is not 'auto' or an integer from 1 to 256, naming options.threads", async () => {
    for (const bad of [0, 1.5, 257, "2", null]) {
      const e = await pruneGraph(graph, x, { threads: bad as never }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as Error).message).toContain("options.threads");
      expect((e as Error).message).toContain('"auto" or an integer from 1 to 256');
    }
  });
});
