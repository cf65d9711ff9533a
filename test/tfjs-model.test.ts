// TF.js LayersModel in and out: the bundled MNIST model read and checked against @tensorflow/tfjs,
// a pruned copy written and loaded back by @tensorflow/tfjs, shards, float16/uint8/uint16 weights,
// every malformed case with its error, and the .npy / JSON calibration readers.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  forward, masksFromJson, masksOf, masksToJson, ModelFormatError, parseLayersModel, writeLayersModel,
  type DenseNetwork,
} from "../bindings/index.ts";
import { parseCalibrationJson, parseNpy, readLayersModelDir, readNpy, writeLayersModelDir } from "../bindings/node/files.ts";
import { NetTrimError, ShapeError, ValidationError } from "../bindings/errors.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

const MODEL_DIR = path.resolve(import.meta.dirname, "..", "models", "mnist-mlp");
const MODEL_JSON = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, "model.json"), "utf8"));
const WEIGHTS = new Uint8Array(fs.readFileSync(path.join(MODEL_DIR, "weights.bin")));
let tmp: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-tfjs-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Helpers (independent of the code under test)

function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function f32bytes(values: number[] | Float32Array): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return out;
}

function writeDir(name: string, modelJson: unknown, files: Record<string, Uint8Array>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(modelJson));
  for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), b);
  return dir;
}

/** Loads a model directory with TF.js's own HTTP loader (manifest, paths, shards), reading local files. */
async function tfLoadDir(dir: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: string | URL | Request) => {
    const p = decodeURIComponent(new URL(String(url)).pathname).slice(1);
    const file = path.join(dir, p);
    if (!fs.existsSync(file)) return new Response("not found", { status: 404 });
    return new Response(new Uint8Array(fs.readFileSync(file)), { status: 200 });
  };
  return tf.loadLayersModel(tf.io.http("http://model.test/model.json", { fetchFunc: fetchFunc as typeof fetch }));
}

/** Loads model.json + per-group buffers with tf.io.fromMemory. */
async function tfLoadMemory(modelJson: any, groups: Uint8Array[]): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g: any) => g.weights),
    weightData: ab(concat(groups)),
  }));
}

/** Outputs of every Dense-carrying step of a TF.js model (its output tensors per named layer). */
function tfSignals(model: tf.LayersModel, layerNames: string[], x: Float32Array, rows: number): Float32Array[] {
  const probe = tf.model({ inputs: model.inputs, outputs: layerNames.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
  return tf.tidy(() => {
    const out = probe.predict(tf.tensor2d(x, [rows, x.length / rows])) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

function tfPredict(model: tf.LayersModel, x: Float32Array, rows: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, x.length / rows])) as tf.Tensor).dataSync() as Float32Array);
}

/** Largest per-sample relative error ‖a − b‖ / ‖b‖ over the rows of [rows, cols] matrices. */
function maxRowRelErr(a: Float32Array, b: Float32Array, rows: number): number {
  expect(a.length).toBe(b.length);
  const cols = a.length / rows;
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let num = 0, den = 0;
    for (let c = 0; c < cols; c++) {
      const d = a[r * cols + c] - b[r * cols + c];
      num += d * d;
      den += b[r * cols + c] ** 2;
    }
    worst = Math.max(worst, den === 0 ? Math.sqrt(num) : Math.sqrt(num / den));
  }
  return worst;
}

/** Bit-for-bit equality of two Float32Arrays (fast for the 235,200-weight kernel). */
function expectSameF32(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const same = Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  expect(same, "Float32Arrays differ").toBe(true);
}

function expectError(fn: () => unknown, cls: Function, ...fragments: string[]): Error {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, "expected an error").toBeInstanceOf(cls);
  expect(error).toBeInstanceOf(NetTrimError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
  return error as Error;
}

/** A Sequential model.json of Dense layers (float32 weights in one group "w.bin"). */
function denseModel(
  layers: { name: string; units: number; activation?: string; use_bias?: boolean; cls?: string; extra?: object }[],
  inputDim: number,
  weights: { name: string; shape: number[]; values: number[]; dtype?: string }[],
) {
  const modelJson = {
    format: "layers-model",
    generatedBy: "test",
    convertedBy: null,
    modelTopology: {
      class_name: "Sequential",
      config: {
        name: "t",
        layers: layers.map((l, i) => ({
          class_name: l.cls ?? "Dense",
          config: {
            name: l.name, units: l.units, activation: l.activation ?? "linear", use_bias: l.use_bias ?? true,
            ...(i === 0 ? { batch_input_shape: [null, inputDim] } : {}), ...(l.extra ?? {}),
          },
        })),
      },
    },
    weightsManifest: [{ paths: ["w.bin"], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype: dtype ?? "float32" })) }],
  };
  return { modelJson, data: f32bytes(weights.flatMap((w) => w.values)) };
}

const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

// ---------------------------------------------------------------------------------------------

describe("the bundled MNIST model", () => {
  const mnist = loadMnist();
  const ROWS = 64;
  const x = mnist.testX.slice(0, ROWS * PIXELS);

  it("reads as 3 Dense layers with the right shapes and activations", () => {
    const { network } = readLayersModelDir(path.join(MODEL_DIR, "model.json"));
    expect(network.inputSize).toBe(784);
    expect(network.layers.map((l) => [l.name, l.inputs, l.units, l.activation, l.useBias])).toEqual([
      ["hidden1", 784, 300, "relu", true],
      ["hidden2", 300, 100, "relu", true],
      ["logits", 100, 10, "linear", true],
    ]);
    expect(network.layers.map((l) => [l.kernel.length, l.bias.length])).toEqual([[235200, 300], [30000, 100], [1000, 10]]);
    expect(network.outputActivation).toBeUndefined();
    // Directory form and in-memory form agree; weights equal the file's floats.
    const mem = parseLayersModel(MODEL_JSON, ab(WEIGHTS));
    expectSameF32(readLayersModelDir(MODEL_DIR).network.layers[2].kernel, mem.layers[2].kernel);
    const dv = new DataView(WEIGHTS.buffer, WEIGHTS.byteOffset);
    expect(mem.layers[0].kernel[12345]).toBe(dv.getFloat32(4 * 12345, true));
    expect(mem.layers[2].bias[9]).toBe(dv.getFloat32(WEIGHTS.length - 4, true));
  });

  it("forward() matches @tensorflow/tfjs on test digits after every layer (1e-5 relative)", async () => {
    const network = parseLayersModel(MODEL_JSON, ab(WEIGHTS));
    const model = await tfLoadDir(MODEL_DIR);
    const ours = forward(network, x, ROWS);
    const theirs = tfSignals(model, ["hidden1", "hidden2", "logits"], x, ROWS);
    for (let i = 0; i < 3; i++) expect(maxRowRelErr(ours[i], theirs[i], ROWS)).toBeLessThan(1e-5);
    expect(maxRowRelErr(ours[2], tfPredict(model, x, ROWS), ROWS)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe("writing a pruned model", () => {
  const mnist = loadMnist();
  const ROWS = 64;
  const x = mnist.testX.slice(0, ROWS * PIXELS);

  function pruned(): DenseNetwork {
    const net = parseLayersModel(MODEL_JSON, ab(WEIGHTS));
    // Keep the largest 20% of |w| per layer (a magnitude pruning), and zero a few biases.
    for (const l of net.layers) {
      const sorted = Float32Array.from(l.kernel, Math.abs).sort();
      const cut = sorted[Math.floor(0.8 * sorted.length)];
      for (let i = 0; i < l.kernel.length; i++) if (Math.abs(l.kernel[i]) < cut) l.kernel[i] = 0;
      l.bias[0] = 0;
      l.bias[3] = 0;
    }
    return net;
  }

  it("round trip: @tensorflow/tfjs loads the written files and predicts as forward() does; masks match the zeros", async () => {
    const net = pruned();
    const written = writeLayersModel(MODEL_JSON, net, { mode: "test", epsilonGain: 0.05 });
    const dir = path.join(tmp, "roundtrip");
    writeLayersModelDir(dir, written);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);

    const mj = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
    expect(mj.modelTopology).toEqual(MODEL_JSON.modelTopology);
    expect(mj.format).toBe("layers-model");
    expect(mj.generatedBy).toBe(MODEL_JSON.generatedBy);
    expect(mj.convertedBy).toBe(MODEL_JSON.convertedBy);
    expect(mj.weightsManifest).toEqual([{ paths: ["weights.bin"], weights: MODEL_JSON.weightsManifest[0].weights }]);
    expect(fs.statSync(path.join(dir, "weights.bin")).size).toBe(WEIGHTS.length);
    const meta = mj.userDefinedMetadata.netTrim;
    expect(meta.mode).toBe("test");
    expect(meta.epsilonGain).toBe(0.05);
    expect(meta.layers.map((l: any) => l.name)).toEqual(["hidden1", "hidden2", "logits"]);
    const nnz = net.layers.map((l) => l.kernel.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
    expect(meta.layers.map((l: any) => l.nnz)).toEqual(nnz);
    expect(meta.nnz).toBe(nnz.reduce((a, b) => a + b));
    expect(meta.total).toBe(235200 + 30000 + 1000);

    // @tensorflow/tfjs reads it through its own loader; its predictions equal our forward pass.
    const model = await tfLoadDir(dir);
    expect((model.getUserDefinedMetadata() as any).netTrim.nnz).toBe(meta.nnz);
    const ours = forward(net, x, ROWS);
    const theirs = tfSignals(model, ["hidden1", "hidden2", "logits"], x, ROWS);
    for (let i = 0; i < 3; i++) expect(maxRowRelErr(ours[i], theirs[i], ROWS)).toBeLessThan(1e-5);
    // TF.js holds exactly our weights, zeros included.
    const w = model.getLayer("hidden1").getWeights()[0].dataSync();
    expectSameF32(Float32Array.from(w), net.layers[0].kernel);
    model.dispose();

    // Reading the written files back gives the pruned network; masks are its zeros.
    const back = readLayersModelDir(dir).network;
    const masks = masksOf(back);
    for (const [i, l] of net.layers.entries()) {
      expectSameF32(back.layers[i].kernel, l.kernel);
      expectSameF32(back.layers[i].bias, l.bias);
      expect(masks[i].name).toBe(l.name);
      for (let k = 0; k < l.kernel.length; k++) if ((masks[i].mask[k] === 1) !== (l.kernel[k] !== 0)) throw new Error(`mask ${i} ${k}`);
      expect(masks[i].biasMask[0]).toBe(0);
      expect(masks[i].biasMask[3]).toBe(0);
      expect(masks[i].biasMask.reduce((a, b) => a + b)).toBe(l.bias.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
    }
    // JSON form: a flat [in, units] 0/1 array per layer, usable with tf.tensor(kernel, kernelShape).
    const json = JSON.parse(JSON.stringify(masksToJson(back)));
    expect(json.layers[0].weights).toEqual({ kernel: "hidden1/kernel", bias: "hidden1/bias" });
    expect(json.layers[0].kernelShape).toEqual([784, 300]);
    expect(json.layers.map((l: any) => l.nnz)).toEqual(nnz);
    const fromJson = masksFromJson(json);
    expect(fromJson[1].mask).toEqual(masks[1].mask);
    const masked = tf.tidy(() => tf.mul(tf.tensor(json.layers[1].kernel, json.layers[1].kernelShape), tf.ones([300, 100])).sum().dataSync()[0]);
    expect(masked).toBe(nnz[1]);
  });

  it("refuses a network that does not fit the original topology", () => {
    const net = pruned();
    expectError(() => writeLayersModel(MODEL_JSON, { ...net, layers: net.layers.slice(0, 2) }), ModelFormatError, "network.layers", "3 layers", "received 2");
    const bad = pruned();
    bad.layers[1] = { ...bad.layers[1], name: "other" };
    expectError(() => writeLayersModel(MODEL_JSON, bad), ModelFormatError, "network.layers[1]", '"hidden2"', '"other"');
    const nan = pruned();
    nan.layers[2].kernel[5] = NaN;
    expectError(() => writeLayersModel(MODEL_JSON, nan), NetTrimError, "kernel[0][5] is NaN");
  });
});

describe("weight layouts", () => {
  it("weights split across 3 files, tensors straddling files (even mid-float) → the same network; TF.js agrees", async () => {
    const cuts = [1001, 784 * 300 * 4 + 602]; // inside hidden1/kernel, inside hidden1/bias
    const files = {
      "group1-shard1of3.bin": WEIGHTS.slice(0, cuts[0]),
      "group1-shard2of3.bin": WEIGHTS.slice(cuts[0], cuts[1]),
      "group1-shard3of3.bin": WEIGHTS.slice(cuts[1]),
    };
    const mj = structuredClone(MODEL_JSON);
    mj.weightsManifest[0].paths = Object.keys(files);
    const dir = writeDir("shards", mj, files);
    const base = parseLayersModel(MODEL_JSON, ab(WEIGHTS));
    const sharded = readLayersModelDir(path.join(dir, "model.json"));
    expect(sharded.files[0].map((f) => path.basename(f))).toEqual(Object.keys(files));
    for (let i = 0; i < 3; i++) {
      expectSameF32(sharded.network.layers[i].kernel, base.layers[i].kernel);
      expectSameF32(sharded.network.layers[i].bias, base.layers[i].bias);
    }
    const model = await tfLoadDir(dir);
    expect(Float32Array.from(model.getLayer("hidden1").getWeights()[1].dataSync())).toEqual(base.layers[0].bias);
    model.dispose();
  });

  it("two manifest groups, given per group or as one buffer", async () => {
    const split = 4 * (784 * 300 + 300);
    const mj = structuredClone(MODEL_JSON);
    const ws = mj.weightsManifest[0].weights;
    mj.weightsManifest = [
      { paths: ["group1-shard1of1.bin"], weights: ws.slice(0, 2) },
      { paths: ["group2-shard1of2.bin", "group2-shard2of2.bin"], weights: ws.slice(2) },
    ];
    const base = parseLayersModel(MODEL_JSON, ab(WEIGHTS));
    const perGroup = parseLayersModel(mj, [ab(WEIGHTS.slice(0, split)), ab(WEIGHTS.slice(split))]);
    const oneBuffer = parseLayersModel(mj, ab(WEIGHTS));
    const dir = writeDir("groups", mj, {
      "group1-shard1of1.bin": WEIGHTS.slice(0, split),
      "group2-shard1of2.bin": WEIGHTS.slice(split, split + 50),
      "group2-shard2of2.bin": WEIGHTS.slice(split + 50),
    });
    const fromDir = readLayersModelDir(dir).network;
    for (const n of [perGroup, oneBuffer, fromDir]) {
      for (let i = 0; i < 3; i++) expectSameF32(n.layers[i].kernel, base.layers[i].kernel);
    }
    expectError(() => parseLayersModel(mj, [ab(WEIGHTS)]), ModelFormatError, "weightData", "one ArrayBuffer per weightsManifest group (2)", "array of 1");
  });

  // float16 bit patterns from the IEEE 754 binary16 definition, with their exact values.
  const HALF: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x3800, 0.5], [0x7bff, 65504],
    [0x0001, 2 ** -24], [0x3555, 0.333251953125], [0x8000, -0], [0x0400, 2 ** -14],
  ];
  const HALF_BIAS: [number, number][] = [[0x4500, 5], [0xbc00, -1], [0x3e00, 1.5], [0x0200, 2 ** -15]];
  function u16bytes(values: number[]): Uint8Array {
    const out = new Uint8Array(2 * values.length);
    const v = new DataView(out.buffer);
    values.forEach((x, i) => v.setUint16(2 * i, x, true));
    return out;
  }
  const smallTopology = (units: number, inputs: number) => ({
    class_name: "Sequential",
    config: { name: "small", layers: [{ class_name: "Dense", config: { name: "d", units, activation: "relu", use_bias: true, batch_input_shape: [null, inputs] } }] },
  });

  it("float16 (quantization float16, and dtype float16) decodes bit-exactly; TF.js agrees", async () => {
    const mj = {
      format: "layers-model",
      modelTopology: smallTopology(4, 2),
      weightsManifest: [{
        paths: ["w.bin"],
        weights: [
          { name: "d/kernel", shape: [2, 4], dtype: "float32", quantization: { dtype: "float16" } },
          { name: "d/bias", shape: [4], dtype: "float32", quantization: { dtype: "float16" } },
        ],
      }],
    };
    const data = concat([u16bytes(HALF.map((h) => h[0])), u16bytes(HALF_BIAS.map((h) => h[0]))]);
    const net = parseLayersModel(mj, ab(data));
    expect(Array.from(net.layers[0].kernel)).toEqual(HALF.map((h) => h[1]));
    expect(Object.is(net.layers[0].kernel[6], -0)).toBe(true);
    expect(Array.from(net.layers[0].bias)).toEqual(HALF_BIAS.map((h) => h[1]));
    expect(net.source?.storedAs[0]).toEqual({ kernel: "float16-quantized", bias: "float16-quantized" });
    const model = await tfLoadMemory(mj, [data]);
    expectSameF32(Float32Array.from(model.getLayer("d").getWeights()[0].dataSync()), net.layers[0].kernel);
    model.dispose();
    // Top-level dtype "float16" (DTYPE_VALUE_SIZE_MAP has it; 2 bytes a value).
    const mj2 = structuredClone(mj);
    (mj2.weightsManifest[0] as any).weights = mj2.weightsManifest[0].weights.map((w: any) => ({ name: w.name, shape: w.shape, dtype: "float16" }));
    const net2 = parseLayersModel(mj2, ab(data));
    expectSameF32(net2.layers[0].kernel, net.layers[0].kernel);
    expectSameF32(net2.layers[0].bias, net.layers[0].bias);
  });

  it("uint8 / uint16 quantization: q·scale + min, within the quantization step; TF.js agrees; int32 weights convert", async () => {
    const qk = [0, 1, 127, 128, 254, 255];
    const qb = [0, 65535];
    const mj = {
      format: "layers-model",
      modelTopology: smallTopology(2, 3),
      weightsManifest: [{
        paths: ["w.bin"],
        weights: [
          { name: "d/kernel", shape: [3, 2], dtype: "float32", quantization: { dtype: "uint8", scale: 0.02, min: -2.55 } },
          { name: "d/bias", shape: [2], dtype: "float32", quantization: { dtype: "uint16", scale: 1e-4, min: -3.2767 } },
        ],
      }],
    };
    const data = concat([Uint8Array.from(qk), u16bytes(qb)]);
    const net = parseLayersModel(mj, ab(data));
    const k = net.layers[0].kernel, b = net.layers[0].bias;
    const expectedK = [-2.55, -2.53, -0.01, 0.01, 2.53, 2.55];
    for (let i = 0; i < 6; i++) expect(Math.abs(k[i] - expectedK[i])).toBeLessThan(0.02 / 2);
    expect(Math.abs(b[0] - -3.2767)).toBeLessThan(1e-4 / 2);
    expect(Math.abs(b[1] - 3.2768)).toBeLessThan(1e-4 / 2);
    const model = await tfLoadMemory(mj, [data]);
    const [tk, tb] = model.getLayer("d").getWeights().map((t) => Float32Array.from(t.dataSync()));
    expect(tk).toEqual(k);
    expect(tb).toEqual(b);
    model.dispose();

    const ints = new Uint8Array(4 * 8);
    const dv = new DataView(ints.buffer);
    [3, -7, 0, 2_000_000, 1, 2, -1, 5].forEach((v, i) => dv.setInt32(4 * i, v, true));
    const mji = structuredClone(mj);
    mji.modelTopology = smallTopology(2, 3);
    mji.weightsManifest[0].weights = [
      { name: "d/kernel", shape: [3, 2], dtype: "int32" },
      { name: "d/bias", shape: [2], dtype: "int32" },
    ] as any;
    const neti = parseLayersModel(mji, ab(ints));
    expect(Array.from(neti.layers[0].kernel)).toEqual([3, -7, 0, 2_000_000, 1, 2]);
    expect(Array.from(neti.layers[0].bias)).toEqual([-1, 5]);
  });
});

describe("topologies", () => {
  it("a TF.js-built functional chain with auto-named layers, Activation and ReLU layers folded: TF.js agrees", async () => {
    const input = tf.input({ shape: [6] });
    let h = tf.layers.dense({ units: 5 }).apply(input) as tf.SymbolicTensor; // linear
    h = tf.layers.activation({ activation: "relu" }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dropout({ rate: 0.3 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 4, useBias: false }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
    const mj = {
      format: "layers-model", generatedBy: "tfjs test", convertedBy: null,
      modelTopology: artifacts!.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts!.weightSpecs }],
    };
    const net = parseLayersModel(mj, artifacts!.weightData as ArrayBuffer);
    expect((mj.modelTopology as any).class_name).toMatch(/^(Model|Functional)$/);
    expect(net.layers.map((l) => [l.activation, l.inputs, l.units, l.useBias])).toEqual([
      ["relu", 6, 5, true], ["relu", 5, 4, false], ["linear", 4, 3, true],
    ]);
    expect(net.layers[0].name).toMatch(/^dense_Dense\d+$/);
    expect(net.source!.weightNames[0].kernel).toBe(`${net.layers[0].name}/kernel`);
    expect(net.outputActivation).toBe("softmax");
    expect(Array.from(net.layers[1].bias)).toEqual([0, 0, 0, 0]);

    const rows = 7;
    const x = Float32Array.from(seq(rows * 6, (i) => Math.sin(i * 1.7) * 2));
    const ours = forward(net, x, rows);
    const probe = tfSignals(model, [
      model.layers[2].name, // after Activation relu
      model.layers[5].name, // after ReLU
    ], x, rows);
    expect(maxRowRelErr(ours[0], probe[0], rows)).toBeLessThan(1e-5);
    expect(maxRowRelErr(ours[1], probe[1], rows)).toBeLessThan(1e-5);
    // The output activation is softmax over our logits.
    const softmax = (logits: Float32Array) => {
      const soft = new Float32Array(logits.length);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(logits.subarray(3 * r, 3 * r + 3));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b);
        e.forEach((v, c) => (soft[3 * r + c] = v / s));
      }
      return soft;
    };
    const soft = softmax(ours[2]);
    expect(maxRowRelErr(soft, tfPredict(model, x, rows), rows)).toBeLessThan(1e-5);

    // Written back (with a zeroed weight) it loads in TF.js and keeps the softmax.
    net.layers[0].kernel[0] = 0;
    const written = writeLayersModel(mj, net);
    const reloaded = await tfLoadMemory(written.modelJson, [new Uint8Array(written.weightData)]);
    const softPruned = softmax(forward(net, x, rows)[2]);
    expect(maxRowRelErr(softPruned, soft, rows)).toBeGreaterThan(1e-4); // the zeroed weight matters
    expect(maxRowRelErr(softPruned, tfPredict(reloaded, x, rows), rows)).toBeLessThan(1e-5);
    const again = parseLayersModel(written.modelJson, written.weightData);
    expect(maxRowRelErr(forward(again, x, rows)[2], forward(net, x, rows)[2], rows)).toBe(0);
    expect(again.outputActivation).toBe("softmax");
    model.dispose();
    reloaded.dispose();
  });

  it("a Keras 3 style functional chain (model_config wrapper, InputLayer batch_shape, {args} nodes)", () => {
    const tensor = (name: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 3], dtype: "float32", keras_history: [name, 0, 0] } });
    const mj = {
      format: "layers-model",
      modelTopology: {
        keras_version: "3.4.1", backend: "tensorflow",
        model_config: {
          class_name: "Functional",
          config: {
            name: "f",
            layers: [
              { class_name: "InputLayer", name: "input_layer", config: { name: "input_layer", batch_shape: [null, 3] }, inbound_nodes: [] },
              { class_name: "Dense", name: "dense", config: { name: "dense", units: 2, activation: "relu", use_bias: true }, inbound_nodes: [{ args: [tensor("input_layer")], kwargs: {} }] },
              { class_name: "Dense", name: "dense_1", config: { name: "dense_1", units: 1, activation: "linear", use_bias: true }, inbound_nodes: [{ args: [tensor("dense")], kwargs: {} }] },
            ],
            input_layers: [["input_layer", 0, 0]],
            output_layers: ["dense_1", 0, 0],
          },
        },
      },
      weightsManifest: [{ paths: ["x.bin"], weights: [
        { name: "dense_1/kernel", shape: [2, 1], dtype: "float32" },
        { name: "dense_1/bias", shape: [1], dtype: "float32" },
        { name: "dense/kernel", shape: [3, 2], dtype: "float32" },
        { name: "dense/bias", shape: [2], dtype: "float32" },
      ] }],
    };
    const net = parseLayersModel(mj, ab(f32bytes([7, 8, 9, 1, 2, 3, 4, 5, 6, 0.5, -0.5])));
    expect(net.layers.map((l) => l.name)).toEqual(["dense", "dense_1"]); // "dense" does not claim "dense_1/..."
    expect(Array.from(net.layers[0].kernel)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(net.layers[1].kernel)).toEqual([7, 8]);
    expect(Array.from(net.layers[1].bias)).toEqual([9]);
    expect(net.inputSize).toBe(3);
  });

  it("weights whose names carry no layer name are matched by order and shape", () => {
    const { modelJson, data } = denseModel([{ name: "a", units: 2, activation: "relu" }, { name: "b", units: 1 }], 2, [
      { name: "w0", shape: [2, 2], values: [1, 2, 3, 4] }, { name: "w1", shape: [2], values: [5, 6] },
      { name: "w2", shape: [2, 1], values: [7, 8] }, { name: "w3", shape: [1], values: [9] },
    ]);
    const net = parseLayersModel(modelJson, ab(data));
    expect(Array.from(net.layers[1].kernel)).toEqual([7, 8]);
    expect(net.source!.weightNames).toEqual([{ kernel: "w0", bias: "w1" }, { kernel: "w2", bias: "w3" }]);
    const written = writeLayersModel(modelJson, net);
    expect((written.modelJson as any).weightsManifest[0].weights.map((w: any) => w.name)).toEqual(["w0", "w1", "w2", "w3"]);
  });
});

describe("malformed models give clear errors", () => {
  it("a missing shard file names the file", () => {
    const mj = structuredClone(MODEL_JSON);
    mj.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    const dir = writeDir("missing", mj, { "group1-shard1of2.bin": WEIGHTS.slice(0, 1000) });
    const e = expectError(() => readLayersModelDir(path.join(dir, "model.json")), ModelFormatError,
      "missing weight file", "group1-shard2of2.bin", "weightsManifest[0].paths[1]");
    expect((e as ModelFormatError).file).toBe(path.join(dir, "group1-shard2of2.bin"));
    expectError(() => readLayersModelDir(path.join(tmp, "nowhere", "model.json")), ModelFormatError, "nowhere");
  });

  it("wrong byte length: expected and received bytes, group and file", () => {
    const short = WEIGHTS.slice(0, WEIGHTS.length - 4);
    expectError(() => parseLayersModel(MODEL_JSON, ab(short)), ModelFormatError,
      'weightsManifest[0] (files "weights.bin")', "too short", "expected 1066440 bytes", "received 1066436 bytes", '"logits/bias"');
    const long = concat([WEIGHTS, new Uint8Array(8)]);
    expectError(() => parseLayersModel(MODEL_JSON, ab(long)), ModelFormatError,
      "too long", "8 bytes left over", "expected 1066440 bytes", "received 1066448 bytes");
    const dir = writeDir("short", MODEL_JSON, { "weights.bin": WEIGHTS.slice(0, 100) });
    expectError(() => readLayersModelDir(dir), ModelFormatError, '"hidden1/kernel"', "received 100 bytes");
  });

  it("unknown dtype and unknown quantization dtype", () => {
    const mj = structuredClone(MODEL_JSON);
    mj.weightsManifest[0].weights[2].dtype = "float64";
    expectError(() => parseLayersModel(mj, ab(WEIGHTS)), ModelFormatError,
      'weightsManifest[0].weights[2] "hidden2/kernel" dtype', "float32, int32, float16", 'received "float64"');
    const mq = structuredClone(MODEL_JSON);
    mq.weightsManifest[0].weights[0].quantization = { dtype: "int4", scale: 1, min: 0 };
    expectError(() => parseLayersModel(mq, ab(WEIGHTS)), ModelFormatError, '"hidden1/kernel" quantization.dtype', "uint8, uint16 or float16", '"int4"');
    const mm = structuredClone(MODEL_JSON);
    mm.weightsManifest[0].weights[0].quantization = { dtype: "uint8" };
    expectError(() => parseLayersModel(mm, ab(WEIGHTS)), ModelFormatError, "scale and min");
  });

  it("shape mismatch between consecutive layers, and against the layer's units", () => {
    const { modelJson, data } = denseModel([{ name: "d1", units: 4, activation: "relu" }, { name: "d2", units: 2 }], 3, [
      { name: "d1/kernel", shape: [3, 4], values: seq(12, (i) => i) }, { name: "d1/bias", shape: [4], values: seq(4, () => 0) },
      { name: "d2/kernel", shape: [5, 2], values: seq(10, (i) => i) }, { name: "d2/bias", shape: [2], values: [0, 0] },
    ]);
    const e = expectError(() => parseLayersModel(modelJson, ab(data)), ModelFormatError,
      'Dense layer "d2"', "consecutive layers", 'Dense layer "d1"', "expected shape [4, 2]", "received [5, 2]");
    expect((e as ModelFormatError).code).toBe("shape_mismatch");
    expect((e as ModelFormatError).layer).toBe("d2");
    const m2 = denseModel([{ name: "d1", units: 4 }], 3, [
      { name: "d1/kernel", shape: [3, 5], values: seq(15, (i) => i) }, { name: "d1/bias", shape: [4], values: seq(4, () => 0) },
    ]);
    expectError(() => parseLayersModel(m2.modelJson, ab(m2.data)), ModelFormatError, '"d1/kernel"', "[inputs, 4]", "received [3, 5]");
    const m3 = denseModel([{ name: "d1", units: 4 }], 7, [
      { name: "d1/kernel", shape: [3, 4], values: seq(12, (i) => i) }, { name: "d1/bias", shape: [4], values: seq(4, () => 0) },
    ]);
    expectError(() => parseLayersModel(m3.modelJson, ab(m3.data)), ModelFormatError, "declared input", "expected shape [7, 4]", "received [3, 4]");
    // Shapes are checked from the manifest before the bytes are.
    const mj = structuredClone(MODEL_JSON);
    mj.weightsManifest[0].weights[2].shape = [299, 100];
    expectError(() => parseLayersModel(mj, ab(WEIGHTS)), ModelFormatError, '"hidden2/kernel"', "300 outputs", 'Dense layer "hidden1"', "received [299, 100]");
  });

  it("a missing weight names the layer and the weight", () => {
    const mj = structuredClone(MODEL_JSON);
    mj.weightsManifest[0].weights.splice(3, 1); // hidden2/bias
    const data = concat([WEIGHTS.slice(0, 4 * (235200 + 300 + 30000)), WEIGHTS.slice(4 * (235200 + 300 + 30000 + 100))]);
    expectError(() => parseLayersModel(mj, ab(data)), ModelFormatError, 'Dense layer "hidden2"', "missing weight", '"hidden2/bias"');
  });

  it("a Conv2D layer names the layer, its class and why", () => {
    const mj = structuredClone(MODEL_JSON);
    mj.modelTopology.config.layers.splice(0, 0, { class_name: "Conv2D", config: { name: "conv", filters: 8, kernel_size: [3, 3] } });
    const e = expectError(() => parseLayersModel(mj, ab(WEIGHTS)), ModelFormatError, 'layer "conv" (Conv2D)', "convolution layers are not supported");
    expect((e as ModelFormatError).className).toBe("Conv2D");
    const bn = structuredClone(MODEL_JSON);
    bn.modelTopology.config.layers.splice(1, 0, { class_name: "BatchNormalization", config: { name: "bn" } });
    expectError(() => parseLayersModel(bn, ab(WEIGHTS)), ModelFormatError, 'layer "bn" (BatchNormalization)', "normalisation");
    const tanh = structuredClone(MODEL_JSON);
    tanh.modelTopology.config.layers[2].config.activation = "tanh";
    expectError(() => parseLayersModel(tanh, ab(WEIGHTS)), ModelFormatError, 'layer "hidden2" (Dense)', 'activation "tanh"');
  });

  it("a functional model that is not a chain", () => {
    const node = (...names: string[]) => [names.map((n) => [n, 0, 0, {}])];
    const mj = {
      format: "layers-model",
      modelTopology: {
        class_name: "Model",
        config: {
          name: "branchy",
          layers: [
            { class_name: "InputLayer", name: "in", config: { name: "in", batch_input_shape: [null, 3] }, inbound_nodes: [] },
            { class_name: "Dense", name: "a", config: { name: "a", units: 2, activation: "relu" }, inbound_nodes: node("in") },
            { class_name: "Dense", name: "b", config: { name: "b", units: 2, activation: "relu" }, inbound_nodes: node("in") },
            { class_name: "Add", name: "sum", config: { name: "sum" }, inbound_nodes: node("a", "b") },
            { class_name: "Dense", name: "out", config: { name: "out", units: 1 }, inbound_nodes: node("sum") },
          ],
          input_layers: [["in", 0, 0]],
          output_layers: [["out", 0, 0]],
        },
      },
      weightsManifest: [],
    };
    expectError(() => parseLayersModel(mj, []), ModelFormatError, 'layer "in" (InputLayer)', "a branch", '"a"', '"b"');
    const two = structuredClone(mj);
    two.modelTopology.config.output_layers = [["a", 0, 0], ["b", 0, 0]];
    expectError(() => parseLayersModel(two, []), ModelFormatError, "output_layers", "one output", "2 outputs (a, b)");
  });

  it("softmax on a hidden layer", () => {
    const mj = structuredClone(MODEL_JSON);
    mj.modelTopology.config.layers[0].config.activation = "softmax";
    expectError(() => parseLayersModel(mj, ab(WEIGHTS)), ModelFormatError, 'layer "hidden1" (Dense)', "softmax on a hidden layer", '"hidden2" follows');
    const act = structuredClone(MODEL_JSON);
    act.modelTopology.config.layers.splice(3, 0, { class_name: "Activation", config: { name: "sm", activation: "softmax" } });
    expectError(() => parseLayersModel(act, ab(WEIGHTS)), ModelFormatError, 'layer "sm" (Activation)', "softmax on a hidden layer");
    const last = structuredClone(MODEL_JSON);
    last.modelTopology.config.layers[4].config.activation = "softmax";
    expect(parseLayersModel(last, ab(WEIGHTS)).outputActivation).toBe("softmax");
  });

  it("a GraphModel and a non-object are refused", () => {
    expectError(() => parseLayersModel({ format: "graph-model", modelTopology: {} }, []), ModelFormatError, "GraphModel", '"layers-model"');
    expectError(() => parseLayersModel("nope", []), ModelFormatError, "model.json", "a JSON object");
  });
});

describe(".npy and JSON calibration data", () => {
  /** An .npy file built by hand per the NumPy format spec (magic, version, header length, padded dict). */
  function npy(descr: string, shape: string, fortran: boolean, body: Uint8Array, version = 1): Uint8Array {
    const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shape}, }`;
    const pre = version === 1 ? 10 : 12;
    const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
    const header = dict.padEnd(total - pre - 1, " ") + "\n";
    const head = new Uint8Array(pre);
    head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const dv = new DataView(head.buffer);
    if (version === 1) dv.setUint16(8, header.length, true);
    else dv.setUint32(8, header.length, true);
    expect((pre + header.length) % 64).toBe(0);
    return concat([head, new TextEncoder().encode(header), body]);
  }

  it("reads '<f4' (v1) and '<f8' (v2) files written by the test exactly", () => {
    const vals = seq(12, (i) => Math.fround((i - 5.5) * 0.37));
    const f4 = npy("<f4", "(3, 4)", false, f32bytes(vals));
    const file = path.join(tmp, "calib.npy");
    fs.writeFileSync(file, f4);
    const m = readNpy(file);
    expect([m.rows, m.cols]).toEqual([3, 4]);
    expect(Array.from(m.data)).toEqual(vals);

    const d = [0.5, -3, 1 / 1024, 1e10, 0.1, -0];
    const body = new Uint8Array(8 * d.length);
    d.forEach((v, i) => new DataView(body.buffer).setFloat64(8 * i, v, true));
    const m8 = parseNpy(npy("<f8", "(2, 3)", false, body, 2));
    expect([m8.rows, m8.cols]).toEqual([2, 3]);
    expect(Array.from(m8.data)).toEqual(d.map(Math.fround));

    const u1 = parseNpy(npy("|u1", "(1, 3)", false, Uint8Array.from([0, 128, 255])).buffer as ArrayBuffer);
    expect(Array.from(u1.data)).toEqual([0, 128, 255]);
  });

  it("fortran order, 1-D, bad magic, big-endian, wrong length: each a clear error", () => {
    const body = f32bytes(seq(6, (i) => i));
    expectError(() => parseNpy(npy("<f4", "(2, 3)", true, body)), ValidationError, "fortran_order", "C order", "True (Fortran order)");
    expectError(() => parseNpy(npy("<f4", "(6,)", false, body)), ShapeError, "shape is (6,)", "1-D", "2-D array [samples, features]", "[samples, H, W, C]");
    // More than two dimensions: one sample per index of the first, flattened in C order.
    const images = parseNpy(npy("<f4", "(1, 2, 3)", false, body));
    expect([images.rows, images.cols, images.sampleShape, Array.from(images.data)]).toEqual([1, 6, [2, 3], [0, 1, 2, 3, 4, 5]]);
    expectError(() => parseNpy(npy("<f4", "(2, 2, 2, 1)", false, f32bytes(seq(7, (i) => i)))), ShapeError, "data has 28 bytes", "shape (2, 2, 2, 1)");
    const bad = npy("<f4", "(2, 3)", false, body);
    bad[1] = 0x58;
    expectError(() => parseNpy(bad), ValidationError, "magic", "\\x93NUMPY", "93 58 55 4d 50 59");
    expectError(() => parseNpy(new Uint8Array(0)), ValidationError, "magic", "(empty file)");
    expectError(() => parseNpy(npy(">f4", "(2, 3)", false, body)), ValidationError, "'>f4' (big-endian");
    expectError(() => parseNpy(npy("<i8", "(2, 3)", false, body)), ValidationError, "'<i8'");
    expectError(() => parseNpy(npy("<f4", "(2, 4)", false, body)), ShapeError, "data has 24 bytes", "2 × 4 × 4 = 32 bytes");
    expectError(() => readNpy(path.join(tmp, "absent.npy")), ValidationError, "absent.npy");
  });

  it("JSON array of arrays", () => {
    const m = parseCalibrationJson("[[1, 2, 3], [4.5, -6, 0]]");
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4.5, -6, 0]);
    expectError(() => parseCalibrationJson("[[1, 2], [3]]"), ShapeError, "[1] has 1 entries", "expected 2");
    expectError(() => parseCalibrationJson('[[1, "x"]]'), ValidationError, "[0][1]", "a number", '"x"');
    expectError(() => parseCalibrationJson("[]"), ValidationError, "non-empty");
    expectError(() => parseCalibrationJson("{oops"), ValidationError, "valid JSON");
  });
});
