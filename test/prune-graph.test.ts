// pruneGraph, the drivers on model graphs: on a Dense chain it is pruneNetwork to the bit (both
// modes); parallel on a small CNN is each layer solved by hand on the original graph's signals, to
// the bit; cascade on a residual graph meets every node's SPEC §4 budget, recomputed here from the
// returned graph, and reports the end-to-end error it measures.
import { describe, expect, it } from "vitest";
import { buildGraph, forwardGraph, NETWORK_REWEIGHT, pruneConvLayer, pruneGraph, pruneLayer, pruneNetwork, type GraphNodeSpec, type ModelGraph } from "../bindings/index.ts";
import { chainGraph, expectChainBits } from "./helpers/graphs.ts";
import { naiveConv, type ConvCase } from "./helpers/conv.ts";
import { gaussian, rng, seededNetwork } from "./helpers/problems.ts";

const relu = (a: Float32Array) => a.map((v) => Math.max(v, 0));
const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));


describe("on a chain of Dense layers", () => {
  const sizes = [20, 40, 30, 6], P = 300;
  for (const mode of ["parallel", "cascade"] as const) {
    it(`${mode}: pruneGraph returns what pruneNetwork does, bit for bit`, async () => {
      const { network, input } = seededNetwork(11, sizes, P);
      const options = { mode, epsilonGain: 0.04, gamma: 1.2, kappa: 0.9 } as const;
      const net = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { ...options, workers: 0 });
      const graph = chainGraph(network);
      const r = await pruneGraph(graph, { data: input, shape: [P, sizes[0]] }, { ...options, workers: 0 });
      expect(net.status).toBe("solved");
      expect(r.status).toBe("solved");
      expect(r.layers.map((l) => l.program)).toEqual(["relu", "relu", "linear"]);
      expectChainBits(r, net);
      // The same end-to-end error as pruneNetwork's measured one.
      expect(r.outputError.measured).toBeCloseTo(net.guarantee.measuredError, 9);
      expect(r.execution.inThread).toBe(true);
    });
  }
});

const same = (k: number): ConvCase => ({ kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padding: "same" });
const valid = (k: number): ConvCase => ({ ...same(k), padding: "valid" });
function convSpec(name: string, input: string, cin: number, filters: number, c: ConvCase, activation: "relu" | "linear", seed: number): GraphNodeSpec {
  const g = gaussian(seed), u = rng(seed + 3);
  return {
    name, op: "conv2d", inputs: [input], filters, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw], activation,
    kernel: new Float32Array(c.kh * c.kw * cin * filters).map(() => (u() < 0.7 ? g() / Math.sqrt(c.kh * c.kw * cin) : 0)),
    bias: new Float32Array(filters).map(() => 0.1 * g()),
  };
}
function denseSpec(name: string, input: string, n: number, units: number, activation: "relu" | "linear", seed: number): GraphNodeSpec {
  const g = gaussian(seed);
  return { name, op: "dense", inputs: [input], units, activation, kernel: new Float32Array(n * units).map(() => g() / Math.sqrt(n)), bias: new Float32Array(units).map(() => 0.1 * g()) };
}
const nodeOf = (graph: ModelGraph, name: string) => graph.nodes.find((n) => n.name === name)!;

describe("parallel on a CNN (conv, pool, conv, ReLU node, flatten, dense)", () => {
  it("equals each layer solved by pruneConvLayer / pruneLayer on forwardGraph's signals, bit for bit", async () => {
    const S = 30;
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [10, 10, 2] },
      convSpec("c1", "x", 2, 4, valid(3), "relu", 21),
      { name: "pool", op: "maxPool2d", inputs: ["c1"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      convSpec("c2", "pool", 4, 6, valid(3), "linear", 22),
      { name: "r2", op: "activation", inputs: ["c2"], activation: "relu" },
      { name: "flat", op: "flatten", inputs: ["r2"] },
      denseSpec("d1", "flat", 24, 5, "linear", 23),
    ], ["x"], ["d1"]);
    const g = gaussian(24);
    const x = new Float32Array(S * 200).map(() => g());
    const before = graph.nodes.map((n) => (n.op === "conv2d" || n.op === "dense" ? n.kernel.slice() : null));
    const r = await pruneGraph(graph, { data: x, shape: [S, 10, 10, 2] }, { epsilonGain: { c1: 0.05, c2: 0.08, d1: 0.03 } });
    expect(r.layers.map((l) => [l.name, l.program])).toEqual([["c1", "relu"], ["c2", "relu"], ["d1", "linear"]]);
    expect(r.layers[1].programReason).toBe(`followed by ReLU node "r2"`);

    const s = forwardGraph(graph, [x], S, { outputsOf: ["x", "pool", "flat"], preActivationOf: ["c1", "c2", "d1"] });
    const geometry = (name: string) => {
      const n = nodeOf(graph, name);
      if (n.op !== "conv2d") throw new Error("not conv");
      return { kernelSize: n.kernelSize, strides: n.strides, padding: n.padding, dilation: n.dilation };
    };
    const c1 = await pruneConvLayer({ data: s.values.get("x")!, shape: [S, 10, 10, 2] }, { data: relu(s.preActivations.get("c1")!), shape: [S, 8, 8, 4] },
      { kind: "relu", epsilonGain: 0.05, ...geometry("c1"), reweight: NETWORK_REWEIGHT });
    const c2 = await pruneConvLayer({ data: s.values.get("pool")!, shape: [S, 4, 4, 4] }, { data: relu(s.preActivations.get("c2")!), shape: [S, 2, 2, 6] },
      { kind: "relu", epsilonGain: 0.08, ...geometry("c2"), reweight: NETWORK_REWEIGHT });
    const d1 = await pruneLayer({ data: s.values.get("flat")!, rows: S, cols: 24 }, { data: s.preActivations.get("d1")!, rows: S, cols: 5 },
      { kind: "linear", epsilonGain: 0.03, reweight: NETWORK_REWEIGHT }); // pruneGraph's default: 3 reweighting rounds
    for (const [name, mine] of [["c1", c1], ["c2", c2], ["d1", d1]] as const) {
      const n = nodeOf(r.graph, name);
      if (n.op !== "conv2d" && n.op !== "dense") throw new Error("not prunable");
      expect(bits(n.kernel)).toEqual(bits(mine.weights));
      expect(bits(n.bias!)).toEqual(bits(mine.bias));
      const report = r.layers.find((l) => l.name === name)!;
      expect(report.status).toBe(mine.status);
      expect(report.nnzAfter).toBe(mine.info.nnz);
      expect(report.nnzAfter).toBeLessThan(report.nnzBefore);
    }
    // The user's graph is untouched.
    graph.nodes.forEach((n, i) => { if (n.op === "conv2d" || n.op === "dense") expect(n.kernel).toEqual(before[i]); });
  });
});

describe("cascade on a residual graph (conv → two branches → Add → ReLU → pool → dense)", () => {
  it("meets every node's budget ε² = γ‖(W̄ ⊛ X̂ − Y)_Ω‖², recomputed from the returned graph; the end-to-end error is what it reports", async () => {
    const S = 24, gamma = 1.1;
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [8, 8, 3] },
      convSpec("c0", "x", 3, 4, same(3), "relu", 31),
      convSpec("ca", "c0", 4, 4, same(3), "linear", 32),
      convSpec("cb", "c0", 4, 4, same(1), "linear", 33),
      { name: "sum", op: "add", inputs: ["ca", "cb"] },
      { name: "r", op: "activation", inputs: ["sum"], activation: "relu" },
      { name: "pool", op: "maxPool2d", inputs: ["r"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      convSpec("c3", "pool", 4, 4, same(3), "relu", 36),
      { name: "flat", op: "flatten", inputs: ["c3"] },
      denseSpec("logits", "flat", 64, 3, "linear", 34),
    ], ["x"], ["logits"]);
    const g = gaussian(35);
    const x = new Float32Array(S * 192).map(() => g());
    const r = await pruneGraph(graph, { data: x, rows: S, cols: 192 }, { mode: "cascade", epsilonGain: 0.05, gamma });
    expect(r.layers.map((l) => [l.name, l.program])).toEqual([["c0", "relu"], ["ca", "linear"], ["cb", "linear"], ["c3", "relu"], ["logits", "linear"]]);
    expect(r.layers[1].programReason).toBe(`followed by add node "sum": linear on the pre-activation output`);

    const inputs = { c0: "x", ca: "c0", cb: "c0", c3: "pool", logits: "flat" } as const;
    const o = forwardGraph(graph, [x], S, { preActivationOf: Object.keys(inputs) });
    const p = forwardGraph(r.graph, [x], S, { outputsOf: Object.values(inputs), preActivationOf: Object.keys(inputs) });
    for (const [name, inName] of Object.entries(inputs)) {
      const report = r.layers.find((l) => l.name === name)!;
      const n = nodeOf(graph, name);
      const isRelu = report.program === "relu";
      const y = isRelu ? relu(o.preActivations.get(name)!) : o.preActivations.get(name)!;
      const xHat = p.values.get(inName)!;
      // V: the ORIGINAL weights on the pruned input, by the test's own convolution / product.
      let v: ArrayLike<number>;
      if (n.op === "conv2d") {
        const c: ConvCase = { kh: n.kernelSize[0], kw: n.kernelSize[1], sh: 1, sw: 1, dh: 1, dw: 1, padding: n.padding };
        v = naiveConv(xHat, [S, ...nodeOf(graph, inName).shape], n.kernel, n.bias!, n.filters, c).out;
      } else if (n.op === "dense") {
        v = Float64Array.from({ length: S * 3 }, (_, k) => {
          const row = Math.floor(k / 3), col = k % 3;
          let z = n.bias![col];
          for (let i = 0; i < 64; i++) z += xHat[row * 64 + i] * n.kernel[i * 3 + col];
          return z;
        });
      } else throw new Error("unexpected op");
      let epsilon: number;
      if (name === "c0") epsilon = 0.05 * norm(y); // its input is the calibration data itself
      else {
        let sq = 0;
        for (let k = 0; k < y.length; k++) if (!isRelu || y[k] > 0) sq += (v[k] - y[k]) ** 2;
        epsilon = Math.sqrt(gamma * sq);
      }
      expect(report.epsilon).toBeCloseTo(epsilon, 4);
      expect(report.status).toBe("solved");
      const out = isRelu ? relu(p.preActivations.get(name)!) : p.preActivations.get(name)!;
      const error = dist(out, y);
      if (isRelu && name !== "c0") {
        // The ReLU program's other constraint, (Ŵ ⊛ X̂)_{Ω^c} ≤ V, within the solver's reported leakage.
        const pre = p.preActivations.get(name)!;
        let leak = 0;
        for (let k = 0; k < y.length; k++) if (!(y[k] > 0)) leak = Math.max(leak, pre[k] - v[k]);
        expect(leak).toBeLessThanOrEqual(report.info!.leakage + 1e-5);
      }
      expect(error).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
      expect(report.relativeError).toBeCloseTo(error / norm(y), 5);
    }
    const measured = dist(p.outputs[0], o.outputs[0]);
    expect(r.outputError.measured).toBeCloseTo(measured, 6);
    expect(r.outputError.relative).toBeCloseTo(measured / norm(o.outputs[0]), 8);
    expect(r.outputError.relative).toBeGreaterThan(0);
    expect(r.layers.reduce((a, l) => a + l.nnzAfter, 0)).toBeLessThan(r.layers.reduce((a, l) => a + l.nnzBefore, 0));
  });
});
