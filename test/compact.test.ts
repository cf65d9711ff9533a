// The compact file (.ntz): decode(encode(x)) returns x bit for bit (float32) on the bundled models
// pruned and on random sparsity patterns (empty rows, all-zero and full-dense layers, -0,
// subnormals, every op of the graph); float16 rounds each value to the nearest half (checked
// against a table of all halves); sizes are pinned; every refusal is a ModelFormatError or a
// ValidationError that names the field and the numbers.
import { describe, expect, it } from "vitest";
import {
  buildGraph, decodeCompact, decodeCompactNetwork, encodeCompact, isCompactModel, isPrunable, magnitudePrune, magnitudePruneGraph,
  ModelFormatError, parseLayersModel, parseLayersModelGraph, ValidationError, type DenseNetwork, type GraphNodeSpec, type ModelGraph,
} from "../bindings/index.ts";
import { readLayersModelBytes } from "../bindings/node/files.ts";
import { crc32 } from "../bindings/formats/compact/header.ts";
import { SEEDED_FILES, seededCompactGraph } from "./helpers/compact-graph.ts";
import { gaussian, seededNetwork } from "./helpers/problems.ts";
import { mulberry32 } from "../examples/seeded-random.ts";

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Every node's fields, weights as bit patterns: equal here means equal to the bit. */
function comparable(graph: ModelGraph): unknown {
  return {
    inputs: graph.inputs, outputs: graph.outputs,
    nodes: graph.nodes.map((n) => Object.fromEntries(Object.entries(n).map(([k, v]) => [k, v instanceof Float32Array ? bitsOf(v) : v]))),
  };
}

function bundled(name: string): ModelGraph {
  const f = readLayersModelBytes(`models/${name}`);
  return parseLayersModelGraph(f.modelJson, f.weightData);
}

/** Magnitude pruning keeping `fraction` of every prunable node's parameters. */
function pruned(graph: ModelGraph, fraction: number): ModelGraph {
  const keep: Record<string, number> = {};
  for (const n of graph.nodes) if (isPrunable(n)) keep[n.name] = Math.round((n.kernel.length + (n.bias?.length ?? 0)) * fraction);
  return magnitudePruneGraph(graph, keep);
}

function nonzeros(graph: ModelGraph): number {
  let count = 0;
  for (const n of graph.nodes) {
    for (const v of Object.values(n)) if (v instanceof Float32Array) for (const x of v) if (x !== 0) count++;
  }
  return count;
}

/** A seeded random sparse tensor: each value kept with probability `density`. */
function sparse(seed: number, length: number, density: number): Float32Array {
  const u = mulberry32(seed), g = gaussian(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = g() * 0.1;
    if (u() < density) out[i] = v;
  }
  return out;
}

/** A graph with every op, random sparsity patterns and odd values. */
function everyOpGraph(): ModelGraph {
  const kernel1 = sparse(1, 3 * 3 * 3 * 8, 0.3);
  for (let i = 0; i < 3 * 3 * 8; i++) kernel1[i] = 0; // the first input rows empty
  kernel1[100] = -0; // a negative zero stays a (stored) zero pattern
  kernel1[101] = 1e-42; // a subnormal
  kernel1[102] = -3.4e38;
  const specs: GraphNodeSpec[] = [
    { name: "image", op: "input", inputs: [], shape: [9, 9, 3] },
    { name: "conv", op: "conv2d", inputs: ["image"], filters: 8, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 1], activation: "relu", kernel: kernel1, bias: sparse(2, 8, 1), origin: { className: "Conv2D", weightNames: { kernel: "conv/kernel", bias: "conv/bias" } } },
    { name: "bn", op: "batchNorm", inputs: ["conv"], axis: -1, epsilon: 1e-3, gamma: sparse(3, 8, 1), beta: null, mean: sparse(4, 8, 0.5), variance: new Float32Array(8).fill(2) },
    { name: "dw", op: "depthwiseConv2d", inputs: ["bn"], depthMultiplier: 2, kernelSize: [3, 3], strides: [2, 2], padding: "valid", dilation: [1, 1], activation: "relu6", kernel: new Float32Array(3 * 3 * 8 * 2), bias: null },
    { name: "pad", op: "zeroPad2d", inputs: ["dw"], pads: [0, 1, 1, 0] },
    { name: "pool", op: "maxPool2d", inputs: ["pad"], poolSize: [2, 2], strides: [1, 1], padding: "same" },
    { name: "avg", op: "avgPool2d", inputs: ["pad"], poolSize: [2, 2], strides: [1, 1], padding: "same" },
    { name: "sum", op: "add", inputs: ["pool", "avg"] },
    { name: "up", op: "upSample2d", inputs: ["sum"], size: [2, 2] },
    { name: "cat", op: "concat", inputs: ["up", "up"], axis: -1 },
    { name: "gap", op: "globalAvgPool2d", inputs: ["cat"], keepDims: true },
    { name: "flat", op: "flatten", inputs: ["gap"] },
    { name: "drop", op: "identity", inputs: ["flat"] },
    { name: "folded", op: "identity", inputs: ["drop"], foldedBatchNorm: { epsilon: 0.001, into: "conv" } },
    { name: "full", op: "dense", inputs: ["folded"], units: 7, activation: "tanh", kernel: sparse(5, 32 * 7, 1), bias: new Float32Array(7) },
    { name: "shape", op: "reshape", inputs: ["full"], targetShape: [7, 1] },
    { name: "act", op: "activation", inputs: ["shape"], activation: "sigmoid" },
    { name: "flat2", op: "flatten", inputs: ["act"] },
    { name: "logits", op: "dense", inputs: ["flat2"], units: 5, activation: "linear", kernel: sparse(6, 35, 0.05), bias: sparse(7, 5, 0.5) },
    { name: "softmax", op: "activation", inputs: ["logits"], activation: "softmax", axis: -1 },
  ];
  return buildGraph(specs, ["image"], ["softmax", "full"]);
}

describe("compact encoding: lossless round trips", () => {
  it("the bundled MLP and CNN pruned to 20%, 10% and 5% (magnitude): every node back bit for bit", () => {
    for (const name of ["mnist-mlp", "mnist-cnn"]) {
      for (const fraction of [1, 0.2, 0.1, 0.05]) {
        const graph = pruned(bundled(name), fraction);
        const bytes = encodeCompact(graph);
        expect(isCompactModel(bytes)).toBe(true);
        expect(comparable(decodeCompact(bytes))).toEqual(comparable(graph));
        expect(comparable(decodeCompact(bytes.slice().buffer))).toEqual(comparable(graph)); // an ArrayBuffer too
      }
    }
  });

  it("every op, empty rows, an all-zero layer, a full-dense layer, -0, subnormals, ±3.4e38, optional fields", () => {
    const graph = everyOpGraph();
    const decoded = decodeCompact(encodeCompact(graph));
    expect(comparable(decoded)).toEqual(comparable(graph));
    expect(bitsOf((decoded.nodes.find((n) => n.name === "conv") as { kernel: Float32Array }).kernel)[100]).toBe(0x80000000);
  });

  it("random sparsity patterns from 0 to 100% kept, tensors of 1 to 5000 values", () => {
    for (let seed = 0; seed < 40; seed++) {
      const inputs = 1 + ((seed * 37) % 100), units = 1 + ((seed * 53) % 50);
      const density = [0, 0.001, 0.01, 0.05, 0.1, 0.3, 0.7, 0.99, 1][seed % 9];
      const graph = buildGraph([
        { name: "x", op: "input", inputs: [], shape: [inputs] },
        { name: "d", op: "dense", inputs: ["x"], units, activation: "relu", kernel: sparse(100 + seed, inputs * units, density), bias: seed % 2 ? null : sparse(200 + seed, units, density) },
      ], ["x"], ["d"]);
      expect(comparable(decodeCompact(encodeCompact(graph)))).toEqual(comparable(graph));
    }
  });

  it("a DenseNetwork: decodeCompactNetwork gives it back (useBias false, softmax output); the graph reader gives its graph", () => {
    const { network } = seededNetwork(3, [20, 12, 6, 3], 4);
    const pruned: DenseNetwork = magnitudePrune(network, [24, 10, 5]);
    pruned.layers[1] = { ...pruned.layers[1], useBias: false, bias: new Float32Array(6) };
    pruned.outputActivation = "softmax";
    const bytes = encodeCompact(pruned);
    const back = decodeCompactNetwork(bytes);
    expect(back.inputSize).toBe(20);
    expect(back.outputActivation).toBe("softmax");
    expect(back.layers.map((l) => [l.name, l.activation, l.useBias, l.inputs, l.units, bitsOf(l.kernel), bitsOf(l.bias)]))
      .toEqual(pruned.layers.map((l) => [l.name, l.activation, l.useBias, l.inputs, l.units, bitsOf(l.kernel), bitsOf(l.bias)]));
    expect(decodeCompact(bytes).nodes.map((n) => n.op)).toEqual(["input", "dense", "dense", "dense", "activation"]);
  });

  it("the bundled MLP read as a Dense chain: decodeCompactNetwork of its graph file skips the Dropout identities", () => {
    const f = readLayersModelBytes("models/mnist-mlp");
    const network = parseLayersModel(f.modelJson, f.weightData);
    const back = decodeCompactNetwork(encodeCompact(pruned(bundled("mnist-mlp"), 0.1)));
    expect(back.layers.map((l) => [l.name, l.activation, l.inputs, l.units])).toEqual(network.layers.map((l) => [l.name, l.activation, l.inputs, l.units]));
    expect(() => decodeCompactNetwork(encodeCompact(bundled("mnist-cnn")))).toThrow(/expected a chain of Dense layers .*received 1 input\(s\) of shape \[28, 28, 1\]/);
  });

  it("deterministic, and the input is not modified", () => {
    const graph = pruned(bundled("mnist-cnn"), 0.1);
    const before = comparable(graph);
    const a = encodeCompact(graph), b = encodeCompact(graph);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(comparable(graph)).toEqual(before);
  });
});

/** Every finite float16 value, ascending, for the nearest-half oracle. */
function allHalves(): { value: number; even: boolean }[] {
  const out: { value: number; even: boolean }[] = [];
  for (let e = 0; e < 31; e++) {
    for (let m = 0; m < 1024; m++) {
      const value = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
      out.push({ value, even: m % 2 === 0 });
    }
  }
  return out;
}

function nearestHalf(v: number, halves: { value: number; even: boolean }[]): number {
  const a = Math.abs(v);
  let lo = 0, hi = halves.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (halves[mid].value <= a) lo = mid;
    else hi = mid;
  }
  const below = halves[lo], above = halves[hi];
  const pick = a - below.value < above.value - a || (a - below.value === above.value - a && below.even) ? below : above;
  return Math.sign(v) * (a >= above.value ? above.value : pick.value);
}

describe("compact encoding: float16 values", () => {
  it("each value is the nearest float16 (ties to even); zeros stay zeros; fewer bytes", () => {
    const graph = pruned(bundled("mnist-cnn"), 0.2);
    const halves = allHalves();
    const f32 = encodeCompact(graph), f16 = encodeCompact(graph, { values: "float16" });
    expect(f16.length).toBeLessThan(0.6 * f32.length);
    const decoded = decodeCompact(f16);
    for (const [i, node] of graph.nodes.entries()) {
      if (!isPrunable(node)) continue;
      const got = decoded.nodes[i] as typeof node;
      node.kernel.forEach((v, k) => expect(got.kernel[k]).toBe(v === 0 ? 0 : nearestHalf(v, halves)));
    }
  });

  it("ties round to even, halves below the smallest subnormal to zero", () => {
    const values = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 2 ** -24 * 1.5, 65504, -1e-9]);
    const graph = buildGraph([
      { name: "x", op: "input", inputs: [], shape: [1] },
      { name: "d", op: "dense", inputs: ["x"], units: 6, activation: "linear", kernel: values, bias: null },
    ], ["x"], ["d"]);
    const back = (decodeCompact(encodeCompact(graph, { values: "float16" })).nodes[1] as { kernel: Float32Array }).kernel;
    expect(Array.from(back)).toEqual([1, 1 + 2 ** -9, 0, 2 ** -23, 65504, -0]);
  });
});

describe("compact encoding: sizes (pinned: a change of the format or its coder shows here)", () => {
  it("bundled models at 10% kept (magnitude): bytes and bytes per kept weight", () => {
    const rows = ["mnist-mlp", "mnist-cnn"].flatMap((name) => {
      const graph = pruned(bundled(name), 0.1);
      return (["float32", "float16"] as const).map((values) => [name, values, nonzeros(graph), encodeCompact(graph, { values }).length]);
    });
    expect(rows).toEqual([
      ["mnist-mlp", "float32", 26661, 95669],
      ["mnist-mlp", "float16", 26661, 52085],
      ["mnist-cnn", "float32", 3463, 13040],
      ["mnist-cnn", "float16", 3463, 7352],
    ]);
    for (const [, values, kept, bytes] of rows) expect((bytes as number) / (kept as number)).toBeLessThan(values === "float32" ? 4.2 : 2.5);
  });

  it("the seeded graph the browser test encodes too: size and CRC-32 pinned", () => {
    for (const values of ["float32", "float16"] as const) {
      const bytes = encodeCompact(seededCompactGraph(), { values });
      expect([bytes.length, crc32(bytes, 0, bytes.length)]).toEqual(SEEDED_FILES[values]);
    }
  });
});

describe("compact encoding: refusals", () => {
  const graph = pruned(bundled("mnist-cnn"), 0.1);
  const good = encodeCompact(graph);

  it("NaN and ±Infinity refused with the node, field and index; float16 overflow refused", () => {
    const withValue = (v: number) => ({ ...graph, nodes: graph.nodes.map((n) => (n.name === "fc1" && isPrunable(n) ? { ...n, kernel: Object.assign(n.kernel.slice(), { 7: v }) } : n)) });
    expect(() => encodeCompact(withValue(NaN))).toThrow(ValidationError);
    expect(() => encodeCompact(withValue(NaN))).toThrow('node "fc1" kernel[7]: expected a finite number, received NaN');
    expect(() => encodeCompact(withValue(-Infinity))).toThrow('node "fc1" kernel[7]: expected a finite number, received -Infinity');
    expect(() => encodeCompact(withValue(70000), { values: "float16" })).toThrow(/node "fc1" kernel\[7\]: expected a value float16 can hold .* received 70000/);
    expect(() => encodeCompact(graph, { values: "float64" as "float32" })).toThrow('options.values: expected "float32" or "float16", received "float64"');
  });

  const refused = (bytes: Uint8Array, message: RegExp) => {
    let error: unknown;
    try {
      decodeCompact(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as Error).message).toMatch(message);
  };
  const edited = (edit: (b: Uint8Array, view: DataView) => void) => {
    const b = good.slice();
    edit(b, new DataView(b.buffer));
    return b;
  };

  it("header: magic, version, value encoding, reserved bytes, lengths and checksum, each named with the numbers", () => {
    refused(new Uint8Array(0), /magic \(bytes 0\.\.3\): expected 4E 54 5A 00 \("NTZ\\0"\), received an empty file/);
    refused(new TextEncoder().encode('{"format":"layers-model"}'), /magic .*received 7B 22 66 6F/);
    refused(good.slice(0, 20), /header: the file is truncated; expected 32 bytes, received 20 bytes/);
    refused(edited((b) => { b[4] = 2; }), /version \(byte 4\): written by another version of net-trim; expected 1, received 2/);
    refused(edited((b) => { b[5] = 7; }), /value encoding \(byte 5\): expected 0 \(float32\) or 1 \(float16\), received 7/);
    refused(edited((b) => { b[6] = 1; }), /reserved bytes 6\.\.7: expected 0, received 1/);
    refused(good.slice(0, good.length - 1), new RegExp(`payload length \\(bytes 24\\.\\.27\\): the file is truncated; expected ${good.length - 33} \\(the bytes after the header\\), received ${good.length - 32}`));
    refused(new Uint8Array([...good, 0]), /payload length .*the file has extra bytes/);
    refused(edited((b) => { b[200] ^= 1; }), /checksum \(bytes 28\.\.31\): the file is corrupted; expected CRC-32 [0-9a-f]{8} of the file, received [0-9a-f]{8}/);
  });
});
