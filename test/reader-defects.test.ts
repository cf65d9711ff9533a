// Issue 12's reader defects, one test each: deep nesting, Object.prototype names as keys, sizes
// beyond the weights or WebAssembly's memory, NaN/∞ weights, non-decimal .npy shapes and files
// over 2 GiB. Every case must end in a NetTrimError that names the place, never a raw exception.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ModelFormatError, NetTrimError, NonFiniteError, ValidationError, masksFromJson, parseLayersModel,
  parseLayersModelGraph, parseNpy, parseOnnxModel, writeLayersModel,
} from "../bindings/index.ts";
import { readLayersModelBytes, readNpy, readOnnxModelFile } from "../bindings/node/files.ts";
import { decodeModel, encodeModel } from "../bindings/formats/onnx/schema.ts";
import { MAX_JSON_DEPTH } from "../bindings/formats/json-depth.ts";
import { MAX_FILE_BYTES } from "../bindings/node/read-bounded.ts";
import { denseModel, nested } from "./helpers/dense-models.ts";
import { npyOfShape } from "./helpers/npy.ts";
import { fixtureBytes } from "./helpers/onnx.ts";
import { graphFuzzModels } from "./helpers/graph-fuzz-models.ts";

/** The error `f` throws (the test fails when it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw, the call returned");
}

const readers = {
  dense: (m: { modelJson: unknown; weightData: ArrayBuffer }) => parseLayersModel(m.modelJson, m.weightData),
  graph: (m: { modelJson: unknown; weightData: ArrayBuffer }) => parseLayersModelGraph(m.modelJson, m.weightData),
};

describe("deep nesting is refused with the bound, not a stack overflow", () => {
  it("the bound: 64 levels, and a model.json nested exactly that deep is still read", () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    const m = denseModel({ sizes: [4, 3], seed: 1 });
    // model.json → userDefinedMetadata → note: 2 levels, then 62 more.
    m.modelJson.userDefinedMetadata = { note: nested(MAX_JSON_DEPTH - 2, 1) };
    expect(parseLayersModel(m.modelJson, m.weightData).layers).toHaveLength(1);
    m.modelJson.userDefinedMetadata = { note: nested(MAX_JSON_DEPTH - 1, 1) };
    expect(thrown(() => parseLayersModel(m.modelJson, m.weightData))).toBeInstanceOf(ModelFormatError);
  });

  it("Keras 3 inbound_nodes nested 5,000 deep", () => {
    for (const read of Object.values(readers)) {
      const m = denseModel({ sizes: [4, 3, 2], seed: 1, form: "keras3" });
      m.modelJson.modelTopology.config.layers[2].inbound_nodes[0].args = nested(5000, "x");
      const e = thrown(() => read(m));
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain("at most 64 levels deep");
      expect(e.message).toContain("inbound_nodes");
    }
  });

  it("a dtype nested 50,000 deep (the message formatter recursed)", () => {
    for (const read of Object.values(readers)) {
      const m = denseModel({ sizes: [4, 3], seed: 2 });
      m.modelJson.weightsManifest[0].weights[0].dtype = nested(50_000, "float32", true);
      const e = thrown(() => read(m));
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toMatch(/weightsManifest\[0\]\.weights\[0\]\.dtype\.config\.config/);
    }
  });

  it("writeLayersModel on a model with a deep ignored field refuses it by name (the reader does too)", () => {
    const m = denseModel({ sizes: [4, 3], seed: 3 });
    const network = parseLayersModel(m.modelJson, m.weightData);
    m.modelJson.userDefinedMetadata = { notes: nested(100_000) };
    for (const f of [() => writeLayersModel(m.modelJson, network), () => parseLayersModel(m.modelJson, m.weightData)]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain("model.json.userDefinedMetadata.notes[0]");
    }
  });

  it("masks.json nested deeper than the bound", () => {
    const e = thrown(() => masksFromJson({ format: "net-trim-masks", version: 1, layers: [{ name: nested(10_000) }] }));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain("at most 64 levels deep");
  });
});

const PROTO_NAMES = ["toString", "constructor", "valueOf", "__proto__", "hasOwnProperty"];

describe("Object.prototype's property names are no table keys", () => {
  it("as a layer class_name: refused as an unknown class, by its name", () => {
    for (const [kind, read] of Object.entries(readers)) {
      for (const name of PROTO_NAMES) {
        const m = denseModel({ sizes: [4, 3, 2], seed: 4 });
        m.modelJson.modelTopology.config.layers.splice(1, 0, { class_name: name, config: { name: "odd" } });
        const e = thrown(() => read(m));
        expect(e, `${kind} ${name}`).toBeInstanceOf(ModelFormatError);
        expect(e.message).toContain(`layer "odd" (${name})`);
        expect(e.message).not.toContain("[native code]");
      }
    }
  });

  it("as a weight dtype or quantization dtype: refused as an unknown dtype", () => {
    for (const read of Object.values(readers)) {
      for (const name of PROTO_NAMES) {
        for (const quantized of [false, true]) {
          const m = denseModel({ sizes: [4, 3], seed: 5 });
          const w = m.modelJson.weightsManifest[0].weights[0];
          if (quantized) w.quantization = { dtype: name, scale: 1, min: 0 };
          else w.dtype = name;
          const e = thrown(() => read(m));
          expect(e).toBeInstanceOf(ModelFormatError);
          expect(e.message).toContain(quantized ? "quantization.dtype: expected uint8, uint16 or float16" : "dtype: expected one of float32");
          expect(e.message).not.toContain("NaN");
        }
      }
    }
  });

  it("as an ONNX op_type: refused as unsupported (constructor and toString were called as readers)", () => {
    for (const name of PROTO_NAMES) {
      const model = decodeModel(fixtureBytes("mlp-opset13.onnx"));
      const node = model.graph!.node!.find((n) => n.op_type === "Relu")!;
      node.op_type = name;
      const e = thrown(() => parseOnnxModel(encodeModel(model)));
      expect(e, name).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain(`op_type ${name} is not supported`);
    }
  });
});

describe("sizes are bounded by the weights and by WebAssembly's 4 GiB", () => {
  it("units 2^31 without a bias and a kernel [0, 2^31] (an 8 GiB bias of zeros)", () => {
    const m = denseModel({ sizes: [4, 3], seed: 6, useBias: [false] });
    m.modelJson.modelTopology.config.layers[0].config.units = 2 ** 31;
    m.modelJson.modelTopology.config.layers[0].config.batch_input_shape = [null, 0];
    m.modelJson.weightsManifest[0].weights[0].shape = [0, 2 ** 31];
    const e = thrown(() => parseLayersModel(m.modelJson, new ArrayBuffer(0)));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain('Dense layer "dense_1" kernel');
    expect(e.message).toContain(`[0, ${2 ** 31}]`);
  });

  it("units 1e10 (a RangeError) and a kernel [1, 2^30 + 1]: over 4 GiB, with the numbers", () => {
    for (const [inputs, units] of [[0, 1e10], [1, 1e10], [1, 2 ** 30 + 1], [2 ** 16, 2 ** 15]]) {
      const m = denseModel({ sizes: [4, 3], seed: 7, useBias: [false] });
      delete m.modelJson.modelTopology.config.layers[0].config.batch_input_shape;
      m.modelJson.modelTopology.config.layers[0].config.units = units;
      m.modelJson.weightsManifest[0].weights[0].shape = [inputs, units];
      const e = thrown(() => parseLayersModel(m.modelJson, new ArrayBuffer(0)));
      expect(e, `${inputs} × ${units}`).toBeInstanceOf(ModelFormatError);
      expect(e.message).toContain('Dense layer "dense_1"');
      if (inputs > 0) expect(e.message).toContain(`${inputs} × ${units} = ${inputs * units}`);
    }
  });
});

describe("graph node sizes are bounded by WebAssembly's 4 GiB", () => {
  it("an UpSampling2D of size 10^5 × 10^5 (read, then unrunnable) is refused naming the layer and the numbers", () => {
    const modelJson = {
      format: "layers-model",
      modelTopology: { class_name: "Sequential", config: { name: "s", layers: [
        { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, 2, 2, 1] } },
        { class_name: "UpSampling2D", config: { name: "up", size: [100_000, 100_000] } },
      ] } },
      weightsManifest: [{ paths: [], weights: [] }],
    };
    const e = thrown(() => parseLayersModelGraph(modelJson, new ArrayBuffer(0)));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain('layer "up" (UpSampling2D) output');
    expect(e.message).toContain("shape [200000, 200000, 1] = 40000000000 values");
  });
});

/** The weight buffer with `value` written at float `index`. */
function poke(buffer: ArrayBuffer, index: number, value: number): ArrayBuffer {
  const out = buffer.slice(0);
  new Float32Array(out)[index] = value;
  return out;
}

describe("NaN and ±∞ weights are refused when read, naming the layer, the tensor and the index", () => {
  it("TF.js, both readers: a kernel NaN and a bias Infinity", () => {
    for (const [kind, read] of Object.entries(readers)) {
      const m = denseModel({ sizes: [4, 3, 2], seed: 8 });
      // dense_2's kernel starts after dense_1's kernel (12) and bias (3).
      const e1 = thrown(() => read({ modelJson: m.modelJson, weightData: poke(m.weightData, 15 + 5, NaN) }));
      expect(e1, kind).toBeInstanceOf(ModelFormatError);
      expect(e1.message).toContain("dense_2");
      expect(e1.message).toContain('kernel "dense_2/kernel"');
      expect(e1.message).toContain("NaN at index 5");
      const e2 = thrown(() => read({ modelJson: m.modelJson, weightData: poke(m.weightData, 12 + 1, -Infinity) }));
      expect(e2.message).toContain('bias "dense_1/bias"');
      expect(e2.message).toContain("-Infinity at index 1");
      expect((e2 as NetTrimError).code).toBe("non_finite");
    }
  });

  it("ONNX: an initializer's NaN, naming the node and the initializer", () => {
    const model = decodeModel(fixtureBytes("mlp-opset13.onnx"));
    const gemm = model.graph!.node!.find((n) => n.op_type === "Gemm" || n.op_type === "MatMul")!;
    const init = model.graph!.initializer!.find((t) => t.name === gemm.input![1])!;
    if (init.raw_data && init.raw_data.length > 0) {
      const raw = new Uint8Array(init.raw_data);
      new DataView(raw.buffer).setFloat32(4 * 7, NaN, true);
      init.raw_data = raw;
    } else init.float_data![7] = NaN;
    const e = thrown(() => parseOnnxModel(encodeModel(model)));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain(`(${gemm.op_type})`);
    expect(e.message).toContain(`kernel "${init.name}"`);
    expect(e.message).toMatch(/NaN at index \d+/);
  });
});

describe("found by the fuzzing", () => {
  it("an int32 weight quantized to uint8 decodes to +0 where q·scale + min rounds to zero, as TF.js's Int32Array holds it", async () => {
    const tf = await import("@tensorflow/tfjs");
    const m = denseModel({ sizes: [3, 4, 2], seed: 14, quantized: true });
    const entry = m.modelJson.weightsManifest[0].weights[2]; // dense_2/kernel
    entry.dtype = "int32";
    const graph = parseLayersModelGraph(m.modelJson, m.weightData);
    const kernel = (graph.nodes.find((n) => n.name === "dense_2") as { kernel: Float32Array }).kernel;
    const specs = m.modelJson.weightsManifest[0].weights;
    const expected = tf.io.decodeWeights(m.weightData, specs)["dense_2/kernel"].dataSync();
    expect(Array.from(kernel, (v) => Object.is(v, -0))).toEqual(new Array(kernel.length).fill(false));
    expect(Array.from(kernel)).toEqual(Array.from(expected));
    expect(kernel.some((v) => v === 0)).toBe(true); // the case occurs: some q·scale + min round to zero
  });
});

describe("found by the fuzzing: a negative BatchNorm variance (its forward pass was NaN)", () => {
  it("TF.js: refused naming the layer, the weight and the index", async () => {
    const [m] = await graphFuzzModels();
    const weights = m.modelJson.weightsManifest[0].weights as { name: string; shape: number[] }[];
    const k = weights.findIndex((w) => w.name.endsWith("moving_variance"));
    const offset = weights.slice(0, k).reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
    const e = thrown(() => parseLayersModelGraph(m.modelJson, poke(m.weightData, offset + 1, -0.5)));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain(`(BatchNormalization) variance "${weights[k].name}"`);
    expect(e.message).toContain("expected variance + epsilon (0.001) > 0, received -0.5 at index 1 (of 3)");
  });

  it("ONNX: refused naming the node and the initializer", () => {
    const model = decodeModel(fixtureBytes("conv-bn.onnx"));
    const bn = model.graph!.node!.find((n) => n.op_type === "BatchNormalization")!;
    const init = model.graph!.initializer!.find((t) => t.name === bn.input![4])!;
    if (init.raw_data && init.raw_data.length > 0) {
      const raw = new Uint8Array(init.raw_data);
      new DataView(raw.buffer).setFloat32(0, -2, true);
      init.raw_data = raw;
    } else init.float_data![0] = -2;
    const e = thrown(() => parseOnnxModel(encodeModel(model)));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toContain("(BatchNormalization)");
    expect(e.message).toContain(`variance "${init.name}"`);
    expect(e.message).toContain("received -2 at index 0");
  });
});

describe(".npy", () => {
  const body = (shape: string) => {
    const good = npyOfShape(new Float32Array(20 * 784), [20, 784]);
    const text = good.toString("latin1").replace("(20, 784)", shape.padEnd(9));
    return new Uint8Array(Buffer.from(text, "latin1"));
  };
  it("shapes only as decimal integer literals: (2e1, 784), (20.0, 784), (0x14, 784) refused", () => {
    expect(parseNpy(body("(20, 784)")).rows).toBe(20);
    for (const shape of ["(2e1, 784)", "(20.0, 784)", "(0x14, 784)", "(+20, 784)", "( 20,0b1)"]) {
      const e = thrown(() => parseNpy(body(shape)));
      expect(e, shape).toBeInstanceOf(ValidationError);
      expect(e.message).toContain("decimal integer literals");
    }
  });
  it("NaN, and a float64 that overflows float32, refused with their row and column", () => {
    const f4 = new Float32Array(6);
    f4[4] = NaN;
    expect(thrown(() => parseNpy(npyOfShape(f4, [2, 3]), "x.npy")).message).toBe("x.npy[1][1] is NaN: expected finite numbers only");
    const f8 = new Float64Array(6);
    f8[2] = 1e39;
    const e = thrown(() => parseNpy(npyOfShape(f8, [2, 3]), "y.npy"));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e.message).toBe("y.npy[0][2] is Infinity: expected finite numbers only");
  });
});

describe("weight paths stay inside the model's folder", () => {
  it("../ and absolute paths are refused before any file is read", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-paths-"));
    try {
      const m = denseModel({ sizes: [4, 3], seed: 10 });
      fs.mkdirSync(path.join(dir, "model"));
      fs.writeFileSync(path.join(dir, "outside.bin"), new Uint8Array(m.weightData));
      for (const p of ["../outside.bin", path.join(dir, "outside.bin"), "."]) {
        m.modelJson.weightsManifest[0].paths = [p];
        fs.writeFileSync(path.join(dir, "model", "model.json"), JSON.stringify(m.modelJson));
        const e = thrown(() => readLayersModelBytes(path.join(dir, "model")));
        expect(e, p).toBeInstanceOf(ModelFormatError);
        expect(e.message).toContain(`expected a file inside ${path.join(dir, "model")} (the model's folder)`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("files over 2 GiB are refused by size before reading (sparse files, nothing written)", () => {
  it("a weight file, an .npy and an .onnx of 2^31 bytes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-big-"));
    try {
      const m = denseModel({ sizes: [4, 3], seed: 9 });
      fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(m.modelJson));
      const big = (name: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, "");
        fs.truncateSync(file, 2 ** 31);
        return file;
      };
      expect(MAX_FILE_BYTES).toBe(2 ** 31 - 1);
      const weights = big("weights.bin");
      for (const [f, file] of [
        [() => readLayersModelBytes(dir), weights], [() => readNpy(big("x.npy")), path.join(dir, "x.npy")],
        [() => readOnnxModelFile(big("m.onnx")), path.join(dir, "m.onnx")],
      ] as const) {
        const e = thrown(f);
        expect(e).toBeInstanceOf(ModelFormatError);
        expect((e as ModelFormatError).file).toBe(file);
        expect(e.message).toContain(`${file} of 2147483648 bytes (2.00 GiB)`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
