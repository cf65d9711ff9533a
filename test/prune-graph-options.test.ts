// pruneGraph around the solves: which program each node gets (and why), BatchNorm folded first,
// abort returns the original graph (in this thread; on the pool: prune-graph-pool.test.ts),
// options and samples refused by name, memory refused naming the node, before any work.
import { describe, expect, it } from "vitest";
import {
  buildGraph, foldBatchNorms, forwardGraph, NETWORK_REWEIGHT, OutOfMemoryError, pruneDepthwiseConvLayer, pruneGraph, pruneLayer, ShapeError, ValidationError,
} from "../bindings/index.ts";
import { conv, mixedGraph, samples } from "./helpers/graphs.ts";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe("programs and BatchNorm folding", () => {
  it("relu for relu activations and nodes feeding a ReLU (through a folded BatchNorm), linear otherwise; the user's graph untouched", async () => {
    const graph = mixedGraph();
    const S = 12;
    const x = samples(S, 72);
    const r = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { epsilonGain: 0.1, layerOptions: { maxIter: 200 } });
    expect(r.layers.map((l) => [l.name, l.program, l.programReason])).toEqual([
      ["a", "relu", "activation relu"],
      ["b", "relu", `followed by ReLU node "rb"`],
      ["c", "linear", `followed by add node "sum": linear on the pre-activation output`],
      ["d", "linear", `followed by add node "sum": linear on the pre-activation output`],
      ["dw", "linear", "activation relu6: linear on the pre-activation output"],
      ["pw", "linear", `followed by dense node "e": linear on the pre-activation output`],
      ["e", "linear", "activation tanh: linear on the pre-activation output"],
      ["f", "linear", "activation sigmoid: linear on the pre-activation output"],
      ["g", "linear", "activation softmax: linear on the pre-activation output"],
    ]);
    expect(r.foldedBatchNorms).toEqual([{ batchNorm: "bn", into: "b" }]);
    const bn = r.graph.nodes.find((n) => n.name === "bn")!;
    expect(bn.op).toBe("identity");
    expect(graph.nodes.find((n) => n.name === "bn")!.op).toBe("batchNorm");
    // The end-to-end error against the UNFOLDED original, recomputed.
    const measured = dist(forwardGraph(r.graph, [x], S).outputs[0], forwardGraph(graph, [x], S).outputs[0]);
    expect(r.outputError.measured).toBeCloseTo(measured, 9);
    expect(r.outputError.perOutput[0].name).toBe("g");

    // The depthwise node: its solver on the original signals of the folded graph, to the bit, and one info per channel.
    const signals = forwardGraph(foldBatchNorms(graph).graph, [x], S, { outputsOf: ["sum"], preActivationOf: ["dw"] });
    const dwSolve = await pruneDepthwiseConvLayer({ data: signals.values.get("sum")!, shape: [S, 6, 6, 3] }, { data: signals.preActivations.get("dw")!, shape: [S, 4, 4, 6] }, {
      kind: "linear", epsilonGain: 0.1, maxIter: 200, kernelSize: [3, 3], padding: "valid", reweight: NETWORK_REWEIGHT, // pruneGraph's default
    });
    const dw = r.graph.nodes.find((n) => n.name === "dw")!;
    if (dw.op !== "depthwiseConv2d") throw new Error("not depthwise");
    expect(bits(dw.kernel)).toEqual(bits(dwSolve.weights));
    const report = r.layers.find((l) => l.name === "dw")!;
    expect(report.channels).toHaveLength(3);
    expect(report.nnzAfter).toBe(dwSolve.nnz);
    expect(report.relativeError).toBeCloseTo(dwSolve.relativeOutputError, 12);

    // A Dense node over the last axis: every one of the S·4·4 positions is a row of pruneLayer.
    const pwSignals = forwardGraph(foldBatchNorms(graph).graph, [x], S, { outputsOf: ["dw"], preActivationOf: ["pw"] });
    const pwSolve = await pruneLayer({ data: pwSignals.values.get("dw")!, rows: S * 16, cols: 6 }, { data: pwSignals.preActivations.get("pw")!, rows: S * 16, cols: 5 }, {
      kind: "linear", epsilonGain: 0.1, maxIter: 200, fitBias: false, reweight: NETWORK_REWEIGHT,
    });
    const pw = r.graph.nodes.find((n) => n.name === "pw")!;
    if (pw.op !== "dense") throw new Error("not dense");
    expect(bits(pw.kernel)).toEqual(bits(pwSolve.weights));
    expect(pw.bias).toBeNull();
  });

  it("the BatchNorm's node is solved on the folded signals: its budget holds for the folded target", async () => {
    const graph = mixedGraph();
    const S = 12;
    const x = samples(S, 72, 81);
    const r = await pruneGraph(graph, { data: x, rows: S, cols: 72 }, { layers: ["b"], epsilonGain: 0.05 });
    expect(r.layers.map((l) => l.name)).toEqual(["b"]);
    // The target is relu(BatchNorm(b(a(x)))) of the original graph, recomputed by its forward pass.
    const y = forwardGraph(graph, [x], S, { outputsOf: ["rb", "a"] });
    const pruned = forwardGraph(r.graph, [x], S, { outputsOf: ["rb"] });
    const error = dist(pruned.values.get("rb")!, y.values.get("rb")!);
    expect(r.layers[0].status).toBe("solved");
    expect(error).toBeLessThanOrEqual(0.05 * norm(y.values.get("rb")!) * (1 + 1e-3) + 1e-6);
    expect(r.layers[0].relativeError).toBeCloseTo(error / norm(y.values.get("rb")!), 4);
  });
});

describe("cascade through every program and a depthwise node", () => {
  it("every solved node meets its budget on the pruned graph's signals; the depthwise budget gives each channel √γ·‖(V_c − Y_c)_Ω‖", async () => {
    const graph = mixedGraph();
    const folded = foldBatchNorms(graph).graph;
    const S = 12, gamma = 1.1;
    const x = samples(S, 72, 82);
    const r = await pruneGraph(graph, { data: x, shape: [S, 6, 6, 2] }, { mode: "cascade", epsilonGain: 0.05, gamma });
    const names = r.layers.map((l) => l.name);
    const o = forwardGraph(folded, [x], S, { preActivationOf: names });
    const p = forwardGraph(r.graph, [x], S, { preActivationOf: names });
    for (const l of r.layers) {
      const y = o.preActivations.get(l.name)!.map((v) => (l.program === "relu" ? Math.max(v, 0) : v));
      const out = p.preActivations.get(l.name)!.map((v) => (l.program === "relu" ? Math.max(v, 0) : v));
      expect(["solved", "solved_inaccurate"]).toContain(l.status);
      expect(dist(out, y)).toBeLessThanOrEqual(l.epsilon * (1 + 1e-2));
    }
    // V of the depthwise node: the original (folded) node on the pruned input.
    const originalDw = folded.nodes.find((n) => n.name === "dw")!;
    const withOriginalDw = buildGraph(r.graph.nodes.map((n) => (n.name === "dw" ? originalDw : n)), r.graph.inputs, r.graph.outputs);
    const v = forwardGraph(withOriginalDw, [x], S, { preActivationOf: ["dw"] }).preActivations.get("dw")!;
    const y = o.preActivations.get("dw")!;
    let worst = 0, normY = 0;
    for (let c = 0; c < 3; c++) {
      let floor = 0, nc = 0;
      for (let k = 0; k < y.length; k++) {
        if (Math.floor((k % 6) / 2) !== c) continue;
        floor += (v[k] - y[k]) ** 2;
        nc += y[k] ** 2;
      }
      worst = Math.max(worst, Math.sqrt(floor / nc));
      normY += nc;
    }
    expect(r.layers.find((l) => l.name === "dw")!.epsilon).toBeCloseTo(Math.sqrt(gamma) * worst * Math.sqrt(normY), 6);
  });
});

describe("abort", () => {
  it("in this thread: returns the original graph (its own nodes) with status aborted, in both modes", async () => {
    const graph = mixedGraph();
    const x = samples(12, 72);
    for (const mode of ["parallel", "cascade"] as const) {
      const controller = new AbortController();
      const names: string[] = [];
      const r = await pruneGraph(graph, { data: x, shape: [12, 6, 6, 2] }, {
        mode, signal: controller.signal, ...(mode === "parallel" ? { workers: 0 } : {}),
        onProgress: (p) => {
          names.push(p.name);
          if (p.name === "c" && p.phase === "solving") controller.abort();
        },
      });
      expect(r.status).toBe("aborted");
      r.graph.nodes.forEach((n, i) => expect(n).toBe(graph.nodes[i]));
      expect(r.outputError.measured).toBe(0);
      expect(r.layers.map((l) => l.name)).toEqual(["a", "b", "c"]);
      expect(r.layers[2].status).toBe("aborted");
      expect(new Set(names)).toEqual(new Set(["a", "b", "c"]));
    }
  });
});

describe("refusals", () => {
  const graph = mixedGraph();
  const x = { data: samples(4, 72), shape: [4, 6, 6, 2] };
  const cases: [string, unknown, string][] = [
    ["mode", { mode: "serial" }, "options.mode"],
    ["gamma", { gamma: 0.9 }, "options.gamma"],
    ["kappa", { kappa: 0 }, "options.kappa"],
    ["a negative gain", { epsilonGain: -0.1 }, "options.epsilonGain"],
    ["a gain for an unknown node", { epsilonGain: { nope: 0.1 } }, `options.epsilonGain["nope"]`],
    ["a gain for a node not pruned", { layers: ["a"], epsilonGain: { b: 0.1 } }, `options.epsilonGain["b"]`],
    ["a layer that cannot be pruned", { layers: ["sum"] }, "options.layers"],
    ["a budget in layerOptions", { layerOptions: { epsilon: 1 } }, "options.layerOptions.epsilon"],
    ["geometry in layerOptions", { layerOptions: { kernelSize: 3 } }, "options.layerOptions.kernelSize"],
    ["reweighting rounds out of range", { layerOptions: { reweight: { rounds: 21 } } }, "options.layerOptions.reweight.rounds"],
    ["a whole-network keep out of range", { keep: 1.1 }, "options.keep"],
    ["the per-layer keep allocation in cascade mode", { keep: 0.1, keepAllocation: "per-layer", mode: "cascade" }, "options.keepAllocation"],
    ["a keep allocation without keep", { keepAllocation: "common-gain" }, "options.keepAllocation"],
    ["a density out of range", { density: 0 }, "options.density"],
    ["an unknown option", { densty: 0.1 }, "options.densty"],
    ["a negative worker count", { workers: -1 }, "options.workers"],
    ["a fractional worker count", { workers: 1.5 }, "options.workers"],
  ];
  for (const [what, options, field] of cases) {
    it(`${what} → ValidationError naming ${field}`, async () => {
      const error = await pruneGraph(graph, x, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    });
  }

  it("the per-layer keep allocation in cascade mode is refused as what it is, not as an unknown value", async () => {
    await expect(pruneGraph(graph, x, { keep: 0.1, keepAllocation: "per-layer", mode: "cascade" })).rejects.toThrow(/"common-gain" in cascade mode \(each layer is solved on the pruned layers' output/);
  });

  it("samples of the wrong shape → ShapeError naming the graph input", async () => {
    await expect(pruneGraph(graph, { data: samples(4, 72), shape: [4, 6, 2, 6] })).rejects.toThrow(ShapeError);
    await expect(pruneGraph(graph, { data: samples(4, 72), shape: [4, 6, 2, 6] })).rejects.toThrow(/graph input "x" takes \[samples, 6, 6, 2\]/);
    await expect(pruneGraph(graph, { data: samples(4, 70), rows: 4, cols: 70 })).rejects.toThrow(/70 features per sample .* takes 72/);
    const error = await pruneGraph(graph, { data: samples(4, 72), shape: [4, 72] }).catch((e: unknown) => e);
    expect((error as ValidationError).field).toBe("input.shape");
  });

  it("a solve that cannot fit in WebAssembly memory → OutOfMemoryError naming the node, before any solve", async () => {
    const big = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [32, 32, 1] },
      conv("small", "x", 1, 2, 3, "relu", 90),
      conv("wide", "small", 2, 4096, 1, "linear", 91),
    ], ["x"], ["wide"]);
    const progress: string[] = [];
    const error = await pruneGraph(big, { data: samples(100, 1024), shape: [100, 32, 32, 1] }, { onProgress: (p) => progress.push(p.name) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect((error as Error).message).toMatch(/^node "wide" \(conv2d, input \[100, 32, 32, 2\] → \[100, 32, 32, 4096\]\) \(W-update: cg\) needs [\d.]+ GiB/);
    expect(progress).toEqual([]);
  });
});
