// One fuzz target per reader: the valid inputs it starts from, the arbitrary of mutations, and
// `run`, which builds the mutated input, reads it, and for an accepted input returns what is wrong
// with the result (consistency, then the round trip write → read, bit for bit). A refusal throws.
// Shared by the seeded tests (test/*-fuzz.test.ts) and `npm run fuzz` (scripts/fuzz.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import {
  graphMasksToJson, masksFromJson, masksOf, masksToJson, parseCalibrationJson, parseLayersModel, parseLayersModelGraph,
  parseNpy, parseOnnxModel, writeLayersModel, writeLayersModelGraph, writeOnnxModel, type ModelGraph,
} from "../../bindings/index.ts";
import { decodeModel, encodeModel } from "../../bindings/formats/onnx/schema.ts";
import { readLayersModelDir } from "../../bindings/node/files.ts";
import { denseModel } from "./dense-models.ts";
import { denseNetworkFindings, firstBitDifference, graphFindings, masksFindings, samplesFindings, type Findings } from "./fuzz-consistency.ts";
import { applyByteEdit, applyJsonMutation, byteEdit, EDGE_NUMBERS, jsonMutation, PROTO_NAMES, stringifyDeep, type ByteEdit, type JsonMutation } from "./fuzz-mutations.ts";
import { graphFuzzModels } from "./graph-fuzz-models.ts";
import { npyOfShape } from "./npy.ts";
import { fixtureBytes } from "./onnx.ts";

export interface FuzzTarget<I = any, B = any> {
  name: string;
  arbitrary: fc.Arbitrary<I>;
  /** Makes the mutated input from a case (the harness's work: not timed). */
  build(input: I): B;
  /** Reads it: findings for an accepted one (empty: all good); throws when refused. Timed. */
  run(built: B): Findings;
  /** Removes what the target made (temporary files), if anything. */
  dispose?(): void;
}

interface ModelCase { base: number; mutations: JsonMutation[]; bytes: ByteEdit[] }

function modelCase(bases: number): fc.Arbitrary<ModelCase> {
  return fc.record({
    base: fc.nat({ max: bases - 1 }),
    mutations: fc.array(jsonMutation, { minLength: 0, maxLength: 3 }),
    bytes: fc.array(byteEdit, { maxLength: 2 }),
  });
}

/** A clone of `json` with the mutations applied (a mutation the harness itself cannot apply is skipped). */
function mutated<T>(json: T, mutations: JsonMutation[]): T {
  const out = structuredClone(json);
  for (const m of mutations) {
    try { applyJsonMutation(out, m); } catch (e) { if (!(e instanceof RangeError)) throw e; }
  }
  return out;
}

function edited(data: ArrayBuffer | Uint8Array, edits: ByteEdit[], start = 0): Uint8Array {
  let bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  for (const e of edits) bytes = applyByteEdit(bytes, e, start);
  return bytes;
}

const exact = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

function sameGraphWeights(a: ModelGraph, b: ModelGraph): Findings {
  const out: Findings = [];
  if (a.nodes.length !== b.nodes.length) return [`round trip: ${b.nodes.length} nodes for ${a.nodes.length}`];
  a.nodes.forEach((n, i) => {
    const m = b.nodes[i] as unknown as Record<string, unknown>;
    if (m.name !== n.name || m.op !== n.op) out.push(`round trip: node ${i} "${String(m.name)}" (${String(m.op)}) for "${n.name}" (${n.op})`);
    for (const f of ["kernel", "bias", "gamma", "beta", "mean", "variance"]) {
      const x = (n as unknown as Record<string, unknown>)[f], y = m[f];
      if (x instanceof Float32Array !== y instanceof Float32Array) out.push(`round trip: node "${n.name}" ${f} present on one side only`);
      else if (x instanceof Float32Array && firstBitDifference(x, y as Float32Array) >= 0) out.push(`round trip: node "${n.name}" ${f}[${firstBitDifference(x, y as Float32Array)}] differs`);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------

const DENSE_BASES = [
  denseModel({ sizes: [6, 5, 3], seed: 11 }),
  denseModel({ sizes: [4, 3, 2], seed: 12, form: "keras3", softmax: true }),
  denseModel({ sizes: [5, 4, 2], seed: 13, useBias: [false, true] }),
  denseModel({ sizes: [3, 4, 2], seed: 14, quantized: true }),
  denseModel({ sizes: [4, 3, 3], seed: 15, float16: true, form: "keras3" }),
  denseModel({ sizes: [3, 2, 2, 2], seed: 16, twoGroups: true }),
];

export const denseTarget: FuzzTarget<ModelCase, { json: any; data: ArrayBuffer }> = {
  name: "tfjs-dense (parseLayersModel + writeLayersModel)",
  arbitrary: modelCase(DENSE_BASES.length),
  build: ({ base, mutations, bytes }) => ({ json: mutated(DENSE_BASES[base].modelJson, mutations), data: exact(edited(DENSE_BASES[base].weightData, bytes)) }),
  run({ json, data }) {
    const net = parseLayersModel(json, data);
    const out = denseNetworkFindings(net);
    if (out.length) return out;
    const written = writeLayersModel(json, net);
    const again = parseLayersModel(written.modelJson, written.weightData);
    net.layers.forEach((l, i) => {
      const m = again.layers[i];
      if (!m || m.name !== l.name || m.units !== l.units || m.inputs !== l.inputs || m.activation !== l.activation || m.useBias !== l.useBias) out.push(`round trip: layer ${i} differs`);
      else if (firstBitDifference(l.kernel, m.kernel) >= 0 || firstBitDifference(l.bias, m.bias) >= 0) out.push(`round trip: layer ${i} weights differ`);
    });
    if (again.layers.length !== net.layers.length) out.push(`round trip: ${again.layers.length} layers for ${net.layers.length}`);
    const masks = masksFromJson(JSON.parse(JSON.stringify(masksToJson(net))));
    const direct = masksOf(net);
    if (masks.some((m, i) => m.name !== direct[i].name || m.mask.join() !== direct[i].mask.join() || m.biasMask.join() !== direct[i].biasMask.join())) out.push("masks round trip differs");
    return out;
  },
};

/** The graph target needs TF.js to save its models first. */
export async function graphTarget(): Promise<FuzzTarget<ModelCase, { json: any; data: ArrayBuffer; realWeights: boolean }>> {
  const bases = [...(await graphFuzzModels()), ...DENSE_BASES];
  return {
    name: "tfjs-graph (parseLayersModelGraph + writeLayersModelGraph)",
    arbitrary: modelCase(bases.length),
    build: ({ base, mutations, bytes }) => ({ json: mutated(bases[base].modelJson, mutations), data: exact(edited(bases[base].weightData, bytes)), realWeights: bytes.length === 0 }),
    run({ json, data, realWeights }) {
      const graph = parseLayersModelGraph(json, data);
      const out = graphFindings(graph, realWeights);
      if (out.length) return out;
      const written = writeLayersModelGraph(json, graph);
      out.push(...sameGraphWeights(graph, parseLayersModelGraph(written.modelJson, written.weightData)));
      masksFindings(masksFromJson(JSON.parse(JSON.stringify(graphMasksToJson(graph))))).forEach((f) => out.push(f));
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Weight paths a model.json may name: its own file, files outside its folder, folders, nothing. */
const WEIGHT_PATHS = ["weights.bin", "weights.bin", "../weights.bin", "/etc/hostname", "", ".", "sub", "missing.bin", "part2.bin", "toString", "sub/../weights.bin"];

interface FilesCase { base: number; mutations: JsonMutation[]; paths: number[]; split: number; bytes: ByteEdit[] }

/** readLayersModelDir on a model folder written for each case (one temporary folder, removed at exit). */
export function filesTarget(): FuzzTarget<FilesCase, string> {
  // In memory when the machine has /dev/shm: the case writes three small files.
  const root = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "net-trim-fuzz-"));
  const dispose = () => fs.rmSync(root, { recursive: true, force: true });
  process.on("exit", dispose);
  const dir = path.join(root, "model");
  fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
  fs.writeFileSync(path.join(root, "weights.bin"), new Uint8Array(DENSE_BASES[0].weightData));
  return {
    name: "node files (readLayersModelDir)",
    dispose,
    arbitrary: fc.record({
      base: fc.nat({ max: 4 }), mutations: fc.array(jsonMutation, { maxLength: 2 }), // the one-file models
      paths: fc.array(fc.nat(), { maxLength: 3 }), split: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(byteEdit, { maxLength: 1 }),
    }),
    build({ base, mutations, paths, split, bytes }) {
      const b = DENSE_BASES[base];
      const json = mutated(b.modelJson, mutations);
      // The weights in one file, or split in two at `split` ("weights.bin" + "part2.bin").
      const data = edited(b.weightData, bytes);
      const cut = Math.floor(split * data.length);
      fs.writeFileSync(path.join(dir, "weights.bin"), paths.length ? data.subarray(0, cut) : data);
      fs.writeFileSync(path.join(dir, "part2.bin"), data.subarray(cut));
      if (paths.length && Array.isArray(json?.weightsManifest) && json.weightsManifest[0] && typeof json.weightsManifest[0] === "object") {
        json.weightsManifest[0].paths = paths.map((p) => WEIGHT_PATHS[p % WEIGHT_PATHS.length]);
      }
      fs.writeFileSync(path.join(dir, "model.json"), stringifyDeep(json));
      return dir;
    },
    run(folder) {
      const { network } = readLayersModelDir(folder);
      return denseNetworkFindings(network);
    },
  };
}

// ---------------------------------------------------------------------------------------------

const ONNX_FILES = ["mlp-opset13.onnx", "cnn-opset11.onnx", "branches-opset17.onnx", "depthwise-opset10.onnx", "matmul-extra.onnx", "conv-bn.onnx"];
const ONNX_OPS = ["Relu", "Gemm", "Conv", "MaxPool", "Concat", "Reshape", "Flatten", "Add", "Softmax", "Constant", "Pad", "BatchNormalization", "Loop", ...PROTO_NAMES];

interface OnnxCase {
  base: number;
  fields: { target: "dim" | "attrInt" | "attrInts" | "opType" | "input" | "dataType" | "opset" | "raw"; pick: number; value: number }[];
  bytes: ByteEdit[];
}

const ONNX_BYTES = ONNX_FILES.map(fixtureBytes);

export const onnxTarget: FuzzTarget<OnnxCase, { data: Uint8Array; realWeights: boolean }> = {
  name: "onnx (parseOnnxModel + writeOnnxModel)",
  arbitrary: fc.record({
    base: fc.nat({ max: ONNX_FILES.length - 1 }),
    fields: fc.array(fc.record({
      target: fc.constantFrom("dim", "attrInt", "attrInts", "opType", "input", "dataType", "opset", "raw", "raw"),
      pick: fc.nat(), value: fc.nat(),
    }), { maxLength: 2 }),
    bytes: fc.array(byteEdit, { maxLength: 2 }),
  }) as fc.Arbitrary<OnnxCase>,
  build({ base, fields, bytes }) {
    let data = ONNX_BYTES[base];
    if (fields.length) {
      const m = decodeModel(data);
      const g = m.graph!, nodes = g.node!, inits = g.initializer ?? [];
      for (const { target, pick, value } of fields) {
        const n = nodes[pick % nodes.length];
        const num = EDGE_NUMBERS[value % EDGE_NUMBERS.length];
        const int = Number.isFinite(num) ? Math.trunc(num) : value;
        const t = inits.length ? inits[pick % inits.length] : undefined;
        switch (target) {
          case "dim": if (t?.dims?.length) t.dims[value % t.dims.length] = int; break;
          case "attrInt": if (n.attribute?.length) n.attribute[pick % n.attribute.length].i = int; break;
          case "attrInts": if (n.attribute?.length) n.attribute[pick % n.attribute.length].ints = [int, int]; break;
          case "opType": n.op_type = ONNX_OPS[value % ONNX_OPS.length]; break;
          case "input": if (n.input?.length) n.input[value % n.input.length] = nodes[(value * 7) % nodes.length].output![0]; break;
          case "dataType": if (t) t.data_type = value % 17; break;
          case "opset": m.opset_import![0].version = int; break;
          case "raw": {
            // A weight value set to NaN/∞/huge, in whichever field holds the data.
            if (t?.raw_data?.length) t.raw_data = applyByteEdit(new Uint8Array(t.raw_data), { kind: "float", at: (pick % 1000) / 1000, bytes: new Uint8Array(1), value });
            else if (t?.float_data?.length) t.float_data[pick % t.float_data.length] = [NaN, Infinity, -Infinity, 3.4e38, 1e39][value % 5];
            break;
          }
        }
      }
      data = encodeModel(m);
    }
    return { data: edited(data, bytes), realWeights: bytes.length === 0 && !fields.some((f) => f.target === "raw") };
  },
  run({ data, realWeights }) {
    const { graph, source } = parseOnnxModel(data);
    const out = graphFindings(graph, realWeights);
    if (out.length) return out;
    const again = parseOnnxModel(writeOnnxModel(graph, source));
    out.push(...sameGraphWeights(graph, again.graph));
    return out;
  },
};

// ---------------------------------------------------------------------------------------------

const NPY_BASES: { bytes: Uint8Array; header: string }[] = [
  [new Float32Array([1, -2, 3.5, 0, 1e-3, 7, 8, 9, -1, 2, 3, 4]), [3, 4]],
  [new Float64Array([1e-40, 2, 1e30, -4, 5, 6]), [2, 3]],
  [new Float32Array(8).fill(0.25), [2, 2, 2, 1]],
].map(([d, shape]) => {
  const bytes = new Uint8Array(npyOfShape(d as Float32Array, shape as number[]));
  return { bytes, header: Buffer.from(bytes.subarray(10, 10 + new DataView(bytes.buffer).getUint16(8, true))).toString("latin1") };
});

const NPY_SHAPES = ["(3, 4)", "(2e1, 4)", "(3.0, 4)", "(0x3, 4)", "(3,4,)", "(3, -4)", "(, 4)", "()", "(12,)", "(3, 4, 1)", "(0, 4)", "(4294967296, 4)", "(9007199254740993, 1)", "(3 , 4)", "(03, 4)", "(3L, 4L)", "(1e400, 4)", "(toString, 4)"];
const NPY_DESCRS = ["<f4", "<f8", "|u1", "<u1", ">f4", "<f2", "<i4", "|b1", "", "constructor", "<f4'"];

interface NpyCase { base: number; shape: number; descr: number; fortran: boolean; headerEdits: number; bytes: ByteEdit[] }

export const npyTarget: FuzzTarget<NpyCase, Uint8Array> = {
  name: "npy (parseNpy)",
  arbitrary: fc.record({
    base: fc.nat({ max: NPY_BASES.length - 1 }),
    shape: fc.nat(), descr: fc.nat(), fortran: fc.boolean(), headerEdits: fc.nat({ max: 3 }),
    bytes: fc.array(byteEdit, { maxLength: 1 }),
  }),
  build({ base, shape, descr, fortran, headerEdits, bytes }) {
    const b = NPY_BASES[base];
    let header = b.header;
    // Header edits (each with probability ~1/2 by the case's numbers): shape literal, descr, fortran order.
    if (headerEdits & 1) header = header.replace(/\([^)]*\)/, NPY_SHAPES[shape % NPY_SHAPES.length]);
    if (headerEdits & 2) header = header.replace(/'descr': '[^']*'/, `'descr': '${NPY_DESCRS[descr % NPY_DESCRS.length]}'`);
    if (fortran && headerEdits) header = header.replace("False", "True");
    const pre = b.bytes.slice(0, 10);
    new DataView(pre.buffer).setUint16(8, header.length, true);
    const body = b.bytes.subarray(10 + b.header.length);
    const file = new Uint8Array([...pre, ...Buffer.from(header, "latin1"), ...body]);
    return edited(file, bytes);
  },
  run(file) {
    const s = parseNpy(file);
    const out = samplesFindings(s);
    if (out.length) return out;
    const again = parseNpy(npyOfShape(s.data, [s.rows, ...(s.sampleShape ?? [s.cols])]));
    if (firstBitDifference(s.data, again.data) >= 0 || again.rows !== s.rows || again.cols !== s.cols) out.push("round trip differs");
    return out;
  },
};

// ---------------------------------------------------------------------------------------------

const CALIBRATION_BASES = [[[0.5, -1, 2], [3, 4.25, -5]], [[1e-3], [2], [1e30]], [[0, 0, 0, 0]]];

interface CalibrationCase { base: number; mutations: JsonMutation[]; text: ByteEdit[] }

export const calibrationTarget: FuzzTarget<CalibrationCase, string> = {
  name: "calibration JSON (parseCalibrationJson)",
  arbitrary: fc.record({ base: fc.nat({ max: CALIBRATION_BASES.length - 1 }), mutations: fc.array(jsonMutation, { maxLength: 3 }), text: fc.array(byteEdit, { maxLength: 1 }) }),
  build({ base, mutations, text }) {
    const json = stringifyDeep(mutated(CALIBRATION_BASES[base], mutations));
    return text.length ? Buffer.from(edited(Buffer.from(json, "latin1"), text)).toString("latin1") : json;
  },
  run(json) {
    const s = parseCalibrationJson(json);
    const out = samplesFindings(s);
    if (out.length) return out;
    const rows = Array.from({ length: s.rows }, (_, r) => Array.from(s.data.subarray(r * s.cols, (r + 1) * s.cols)));
    if (firstBitDifference(s.data, parseCalibrationJson(JSON.stringify(rows)).data) >= 0) out.push("round trip differs");
    return out;
  },
};

// ---------------------------------------------------------------------------------------------

interface MasksCase { base: number; mutations: JsonMutation[] }

export async function masksTarget(): Promise<FuzzTarget<MasksCase, unknown>> {
  const graphs = (await graphFuzzModels()).map((m) => graphMasksToJson(parseLayersModelGraph(m.modelJson, m.weightData)));
  const bases = [...DENSE_BASES.map((b) => masksToJson(parseLayersModel(b.modelJson, b.weightData))), ...graphs];
  return {
    name: "masks.json (masksFromJson)",
    arbitrary: fc.record({ base: fc.nat({ max: bases.length - 1 }), mutations: fc.array(jsonMutation, { minLength: 0, maxLength: 3 }) }),
    build: ({ base, mutations }) => mutated(bases[base], mutations),
    run(file) {
      const masks = masksFromJson(file);
      const out = masksFindings(masks);
      if (out.length) return out;
      const json = { format: "net-trim-masks", version: 1, layers: masks.map((m) => ({ name: m.name, kernelShape: [m.inputs, m.units], kernel: Array.from(m.mask), bias: Array.from(m.biasMask) })) };
      const again = masksFromJson(JSON.parse(JSON.stringify(json)));
      if (again.some((m, i) => m.mask.join() !== masks[i].mask.join() || m.biasMask.join() !== masks[i].biasMask.join())) out.push("round trip differs");
      return out;
    },
  };
}

/** Every target, in report order. */
export async function allTargets(): Promise<FuzzTarget[]> {
  return [denseTarget, await graphTarget(), onnxTarget, npyTarget, calibrationTarget, await masksTarget(), filesTarget()];
}
