// Reweighted ℓ1 on model graphs (layerOptions.reweight in pruneGraph): conv layers reweighted by
// the same weighted soft threshold as Dense ones (pruneConvLayer against im2col + pruneLayer, on
// the factored and CG W-updates); every node of a reweighted graph, parallel and cascade, within
// its budget as recomputed here from the RETURNED weights by the tests' own loops (dense, im2col
// conv, depthwise); a Dense chain pruned as a graph gives pruneNetwork's bits; the pool, the
// threaded conv engine and this thread the same bits; fewer weights than plain ℓ1 at the same gains.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  foldBatchNorms, forwardGraph, isPrunable, matrix, parseLayersModelGraph, pruneConvLayer, pruneGraph, pruneLayer, pruneNetwork, tensor,
  type GraphResult, type LayerInfo, type ModelGraph, type PrunableNode,
} from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { axis, im2col, naiveConv, randomConvLayer, type ConvCase } from "./helpers/conv.ts";
import { chainGraph, mixedGraph, samples } from "./helpers/graphs.ts";
import { seededNetwork } from "./helpers/problems.ts";

// Timings, and the threads run on and why (the same bits on any count).
const TIMING = new Set(["setupMs", "solveMs", "totalMs", "threads", "threadsReason"]);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const untimed = (info: LayerInfo | undefined) => info && Object.fromEntries(Object.entries(info).filter(([k]) => !TIMING.has(k)));
const nonzeros = (...arrays: ArrayLike<number>[]) => arrays.reduce((c, a) => c + Array.from(a).filter((v) => v !== 0).length, 0);
const RW = { rounds: 2 } as const;

/** The same kernels, biases, reports (timings aside) and end-to-end error. */
function expectSameRun(a: GraphResult, b: GraphResult) {
  expect(a.status).toBe(b.status);
  a.graph.nodes.forEach((n, i) => {
    const m = b.graph.nodes[i];
    if (!isPrunable(n) || !isPrunable(m)) return;
    expect(bits(n.kernel), n.name).toEqual(bits(m.kernel));
    if (m.bias) expect(bits(n.bias!), n.name).toEqual(bits(m.bias));
  });
  a.layers.forEach((l, i) => {
    expect(untimed(l.info), l.name).toEqual(untimed(b.layers[i].info));
    expect(l.channels?.map(untimed), l.name).toEqual(b.layers[i].channels?.map(untimed));
  });
  expect(a.outputError).toEqual(b.outputError);
}

/** A depthwise convolution in f64; kernel [kh, kw, C, mult], output channel c·mult + q. */
function naiveDepthwise(x: Float32Array, [n, h, w, C]: readonly number[], kernel: Float32Array, bias: Float32Array, mult: number, c: ConvCase): Float64Array {
  const [ho, pt] = axis(h, c.kh, c.sh, c.dh, c.padding);
  const [wo, pl] = axis(w, c.kw, c.sw, c.dw, c.padding);
  const out = new Float64Array(n * ho * wo * C * mult);
  for (let s = 0; s < n; s++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) {
    for (let ch = 0; ch < C; ch++) for (let q = 0; q < mult; q++) {
      let z = bias[ch * mult + q];
      for (let ky = 0; ky < c.kh; ky++) for (let kx = 0; kx < c.kw; kx++) {
        const iy = oy * c.sh - pt + ky * c.dh, ix = ox * c.sw - pl + kx * c.dw;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) z += x[((s * h + iy) * w + ix) * C + ch] * kernel[((ky * c.kw + kx) * C + ch) * mult + q];
      }
      out[(((s * ho + oy) * wo + ox) * C + ch) * mult + q] = z;
    }
  }
  return out;
}

/** The node's pre-activation output with `weights` on its input signal, by the tests' own loops. */
function nodeOutput(node: PrunableNode, weights: { kernel: Float32Array; bias: Float32Array | null }, x: Float32Array, inShape: readonly number[], S: number): Float64Array {
  const bias = weights.bias ?? new Float32Array(node.op === "dense" ? node.units : node.op === "conv2d" ? node.filters : inShape[2] * node.depthMultiplier);
  if (node.op === "dense") {
    const n = inShape[inShape.length - 1], rows = x.length / n;
    const out = new Float64Array(rows * node.units);
    for (let r = 0; r < rows; r++) for (let m = 0; m < node.units; m++) {
      let z = bias[m];
      for (let k = 0; k < n; k++) z += x[r * n + k] * weights.kernel[k * node.units + m];
      out[r * node.units + m] = z;
    }
    return out;
  }
  const c: ConvCase = { kh: node.kernelSize[0], kw: node.kernelSize[1], sh: node.strides[0], sw: node.strides[1], dh: node.dilation[0], dw: node.dilation[1], padding: node.padding };
  if (node.op === "depthwiseConv2d") return naiveDepthwise(x, [S, ...inShape], weights.kernel, bias, node.depthMultiplier, c);
  return naiveConv(x, [S, ...inShape], weights.kernel, bias, node.filters, c).out;
}

/**
 * Every pruned node's budget, from the returned graph: its input X̂ (the original graph's signal
 * in parallel mode, the returned graph's in cascade), Z = the returned weights on X̂ by the tests'
 * own loops, Y the original pre-activation (relu'd for the ReLU program): the output error
 * ‖act(Z) − Y‖_F within ε·(1 + feasTol) (the solver's promise for a solved node), and the node's
 * reported error the one measured here. Every node reweighted, its nonzeros those returned.
 */
function expectWithinBudgets(graph: ModelGraph, r: GraphResult, x: Float32Array, S: number, mode: "parallel" | "cascade"): void {
  const folded = foldBatchNorms(graph).graph;
  const names = r.layers.map((l) => l.name);
  const byName = (g: ModelGraph, name: string) => g.nodes.find((n) => n.name === name) as PrunableNode;
  const original = forwardGraph(folded, [x], S, { outputsOf: names.map((n) => byName(folded, n).inputs[0]), preActivationOf: names });
  const fed = mode === "parallel" ? original : forwardGraph(r.graph, [x], S, { outputsOf: names.map((n) => byName(folded, n).inputs[0]) });
  for (const l of r.layers) {
    const node = byName(folded, l.name), pruned = byName(r.graph, l.name);
    const inShape = folded.nodes.find((n) => n.name === node.inputs[0])!.shape;
    const z = nodeOutput(node, pruned, fed.values.get(node.inputs[0])!, inShape, S);
    const pre = original.preActivations.get(l.name)!;
    let err = 0, norm = 0;
    for (let i = 0; i < z.length; i++) {
      const relu = l.program === "relu";
      const y = relu ? Math.max(pre[i], 0) : pre[i];
      err += ((relu ? Math.max(z[i], 0) : z[i]) - y) ** 2;
      norm += y * y;
    }
    err = Math.sqrt(err);
    expect(l.status, l.name).toBe("solved");
    expect(err, l.name).toBeLessThanOrEqual(Math.max(l.epsilon * (1 + 1e-3), l.epsilon + 1e-5 * Math.sqrt(norm))); // feasTol 1e-3
    expect(Math.abs(l.relativeError * Math.sqrt(norm) - err), l.name).toBeLessThanOrEqual(1e-4 * err + 1e-6);
    for (const info of l.channels ?? [l.info!]) expect(info.reweight!.rounds.length, l.name).toBeGreaterThan(1);
    expect(l.nnzAfter, l.name).toBe(nonzeros(pruned.kernel, pruned.bias ?? []));
  }
}

const TIGHT = { relTol: 1e-6, dualRelTol: 1e-5, absTol: 1e-9, maxIter: 30000, feasTol: 1e-4 };

describe("a reweighted conv layer is the reweighted program on its im2col unrolling", () => {
  const c: ConvCase = { kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padding: "same" };
  it.each(["factored", "cg"] as const)("W-update %s: each round's objective as pruneLayer's within 1e-3, fewer weights than plain, within budget", async (wUpdate) => {
    const pr = randomConvLayer(91, [6, 7, 7, 2], 4, c, { zeroInputs: 0.3, density: 0.6 });
    const geometry = { kernelSize: [3, 3] as [number, number], padding: "same" as const };
    const opts = { epsilonGain: 0.1, ...TIGHT };
    const plain = await pruneConvLayer(tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), { ...opts, ...geometry, wUpdate });
    const conv = await pruneConvLayer(tensor(pr.input, pr.inShape), tensor(pr.output, pr.outShape), { ...opts, ...geometry, wUpdate, reweight: RW });
    const u = im2col(pr.input, pr.inShape, c);
    const dense = await pruneLayer(matrix(u.data, u.P, u.N), matrix(pr.output, u.P, 4), { ...opts, sparseInput: false, reweight: RW });
    for (const r of [plain, conv, dense]) expect(r.status).toBe("solved");
    const rc = conv.info.reweight!, rd = dense.info.reweight!;
    expect(rc.rounds.length).toBe(3);
    expect(rd.rounds.length).toBe(3);
    rc.rounds.forEach((round, k) => {
      expect(Math.abs(round.objective - rd.rounds[k].objective), `round ${k}`).toBeLessThanOrEqual(1e-3 * rd.rounds[k].objective);
      expect(round.lowerBound, `round ${k}`).toBeLessThanOrEqual(round.objective * (1 + 1e-6)); // each round's certificate
    });
    // Measured on the returned weights by the tests' own convolution.
    const { out } = naiveConv(pr.input, pr.inShape, conv.weights, conv.bias, 4, c);
    let fit = 0, leak = 0;
    for (let i = 0; i < out.length; i++) {
      if (pr.output[i] > 0) fit += (out[i] - pr.output[i]) ** 2;
      else leak = Math.max(leak, out[i]);
    }
    expect(Math.sqrt(fit)).toBeLessThanOrEqual(conv.info.epsilon * (1 + 1e-4));
    expect(leak).toBeLessThanOrEqual(1e-4 * Math.max(...pr.output));
    expect(conv.info.nnz).toBe(nonzeros(conv.weights, conv.bias));
    expect(conv.info.nnz).toBe(rc.rounds[rc.returned].nnz);
    expect(conv.info.nnz).toBeLessThan(plain.info.nnz);
  });
});

describe("pruneGraph with layerOptions.reweight", () => {
  it.each(["parallel", "cascade"] as const)("%s on a Dense chain: pruneNetwork's bits", async (mode) => {
    const sizes = [20, 40, 30, 6], P = 300;
    const { network, input } = seededNetwork(11, sizes, P);
    const options = { mode, epsilonGain: 0.08, gamma: 1.2, layerOptions: { reweight: RW } } as const;
    const net = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { ...options, workers: 0 });
    const r = await pruneGraph(chainGraph(network), { data: input, shape: [P, sizes[0]] }, { ...options, workers: 0 });
    net.network.layers.forEach((l, i) => {
      const node = r.graph.nodes.find((n) => n.name === l.name)!;
      if (node.op !== "dense") throw new Error("not dense");
      expect(bits(node.kernel)).toEqual(bits(l.kernel));
      expect(bits(node.bias!)).toEqual(bits(l.bias));
      expect(untimed(r.layers[i].info)).toEqual(untimed(net.layers[i].info));
      expect(r.layers[i].info!.reweight!.rounds.length).toBe(3);
    });
  });

  const S = 12;
  const x = samples(S, 72);
  const input = { data: x, shape: [S, 6, 6, 2] };
  const gains = { a: 0.05, b: 0.1, c: 0.08, d: 0.08, dw: 0.1, pw: 0.1, e: 0.05, f: 0.05, g: 0.05 };

  it("parallel on a residual graph (conv, depthwise, Dense over the last axis): within budgets, fewer weights; pool, threads and this thread the same bits", async () => {
    const graph = mixedGraph();
    const options = { epsilonGain: gains, layerOptions: { maxIter: 3000, reweight: RW } };
    const here = await pruneGraph(graph, input, { ...options, workers: 0 });
    const threaded = await pruneGraph(graph, input, { ...options, workers: 0, threads: 2 });
    const pool = await pruneGraph(graph, input, { ...options, workers: 2 });
    const plain = await pruneGraph(graph, input, { ...options, layerOptions: { maxIter: 3000, reweight: { rounds: 0 } }, workers: 0 });
    expect(pool.execution.workers).toBe(2);
    expectSameRun(threaded, here);
    expectSameRun(pool, here);
    expectWithinBudgets(graph, here, x, S, "parallel");
    const total = (r: GraphResult) => r.layers.reduce((s, l) => s + l.nnzAfter, 0);
    expect(total(here)).toBeLessThan(total(plain));
  }, 120_000);

  it("cascade on the residual graph: every node within its SPEC §4 budget, measured on the returned graph", async () => {
    const graph = mixedGraph();
    const r = await pruneGraph(graph, input, { mode: "cascade", epsilonGain: gains, layerOptions: { maxIter: 3000, reweight: RW } });
    expectWithinBudgets(graph, r, x, S, "cascade");
  }, 120_000);

  it("the bundled CNN on 40 digits: fewer weights than plain at the same gain, every layer within budget", async () => {
    const dir = new URL("../models/mnist-cnn/", import.meta.url);
    const bytes = readFileSync(new URL("weights.bin", dir));
    const cnn = parseLayersModelGraph(JSON.parse(readFileSync(new URL("model.json", dir), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const digits = loadMnist().trainX.slice(0, 40 * 784);
    const plain = await pruneGraph(cnn, { data: digits, shape: [40, 28, 28, 1] }, { epsilonGain: 0.1, workers: 0, layerOptions: { reweight: { rounds: 0 } } });
    const r = await pruneGraph(cnn, { data: digits, shape: [40, 28, 28, 1] }, { epsilonGain: 0.1, workers: 0, layerOptions: { reweight: { rounds: 3 } } });
    expectWithinBudgets(cnn, r, digits, 40, "parallel");
    r.layers.forEach((l, i) => expect(l.nnzAfter, l.name).toBeLessThan(plain.layers[i].nnzAfter));
    const kept = (g: GraphResult) => g.layers.reduce((s, l) => s + l.nnzAfter, 0);
    expect(kept(r)).toBeLessThan(0.7 * kept(plain)); // measured on 60 digits: 0.50
  }, 120_000);
});
