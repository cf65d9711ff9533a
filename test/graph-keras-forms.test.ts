// The TF.js graph reader on the model.json forms it must read (Keras 3 functional nodes, the
// Python converter's model_config wrapper) and every layer it must refuse, by name, class and why.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { forwardGraph, ModelFormatError, NetTrimError, parseLayersModelGraph } from "../bindings/index.ts";
import { init, relativeDeviation, saveToMemory, seededUniform, tfPredict } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

let seed = 900;
const s = () => init(seed++);
const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;

/** A Keras 3 tensor reference as Keras 3 serialises a call argument. */
function kt(layer: string, shape: (number | null)[]) {
  return { class_name: "__keras_tensor__", config: { shape, dtype: "float32", keras_history: [layer, 0, 0] } };
}

const dtype = { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null };

function k3(className: string, name: string, config: Record<string, unknown>, args: unknown[], kwargs: Record<string, unknown> = {}) {
  return {
    module: "keras.layers", class_name: className, registered_name: null, name,
    config: { name, trainable: true, dtype, ...config },
    inbound_nodes: args.length ? [{ args, kwargs }] : [],
  };
}

describe("Keras 3 functional model.json (hand-written fixture, weights from an equal TF.js model)", () => {
  it("{args, kwargs} nodes, a merge taking a list, batch_shape, DTypePolicy objects: forward equals TF.js", async () => {
    const a = tf.input({ shape: [8, 8, 3], name: "input_layer" });
    const c = sym(tf.layers.conv2d({ name: "conv2d", filters: 4, kernelSize: 3, padding: "same", ...s() }), a);
    const b = sym(tf.layers.batchNormalization({
      name: "batch_normalization", movingMeanInitializer: tf.initializers.randomNormal({ seed: seed++ }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed++ }),
    }), c);
    const r = sym(tf.layers.activation({ name: "activation", activation: "relu" }), b);
    const c2 = sym(tf.layers.conv2d({ name: "conv2d_1", filters: 4, kernelSize: 1, ...s() }), r);
    const add = sym(tf.layers.add({ name: "add" }), [r, c2]);
    const cat = sym(tf.layers.concatenate({ name: "concatenate" }), [add, c]);
    const g = sym(tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d" }), cat);
    const d = sym(tf.layers.dense({ name: "dense", units: 3, activation: "softmax", ...s() }), g);
    const model = tf.model({ inputs: a, outputs: d });
    const saved = await saveToMemory(model);

    const layers = [
      { module: "keras.layers", class_name: "InputLayer", registered_name: null, name: "input_layer", config: { batch_shape: [null, 8, 8, 3], dtype: "float32", sparse: false, name: "input_layer" }, inbound_nodes: [] },
      k3("Conv2D", "conv2d", { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: "same", data_format: "channels_last", dilation_rate: [1, 1], groups: 1, activation: "linear", use_bias: true }, [kt("input_layer", [null, 8, 8, 3])]),
      k3("BatchNormalization", "batch_normalization", { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true }, [kt("conv2d", [null, 8, 8, 4])], { mask: null }),
      k3("Activation", "activation", { activation: "relu" }, [kt("batch_normalization", [null, 8, 8, 4])]),
      k3("Conv2D", "conv2d_1", { filters: 4, kernel_size: [1, 1], strides: [1, 1], padding: "valid", data_format: "channels_last", dilation_rate: [1, 1], groups: 1, activation: "linear", use_bias: true }, [kt("activation", [null, 8, 8, 4])]),
      k3("Add", "add", {}, [[kt("activation", [null, 8, 8, 4]), kt("conv2d_1", [null, 8, 8, 4])]]),
      k3("Concatenate", "concatenate", { axis: -1 }, [[kt("add", [null, 8, 8, 4]), kt("conv2d", [null, 8, 8, 4])]]),
      k3("GlobalAveragePooling2D", "global_average_pooling2d", { data_format: "channels_last", keepdims: false }, [kt("concatenate", [null, 8, 8, 8])]),
      k3("Dense", "dense", { units: 3, activation: "softmax", use_bias: true }, [kt("global_average_pooling2d", [null, 8])]),
    ];
    const modelJson = {
      format: "layers-model", generatedBy: "keras v3.5.0", convertedBy: "TensorFlow.js Converter v4.22.0",
      modelTopology: {
        keras_version: "3.5.0", backend: "tensorflow",
        model_config: { class_name: "Functional", config: { name: "functional", trainable: true, layers, input_layers: [["input_layer", 0, 0]], output_layers: [["dense", 0, 0]] } },
      },
      weightsManifest: saved.modelJson.weightsManifest,
    };
    const rows = 4;
    const x = seededUniform(rows * 192, 2);
    const expected = tfPredict(model, [x], rows)[0];
    const graph = parseLayersModelGraph(modelJson, saved.weightData);
    expect(graph.nodes.map((n) => n.op)).toEqual(["input", "conv2d", "batchNorm", "activation", "conv2d", "add", "concat", "globalAvgPool2d", "dense"]);
    expect(graph.nodes.find((n) => n.name === "concatenate")!.inputs).toEqual(["add", "conv2d"]);
    expect(relativeDeviation(forwardGraph(graph, [x], rows).outputs[0], expected)).toBeLessThan(1e-5);
    // Newer Keras 3 writes a single endpoint unwrapped.
    const unwrapped = JSON.parse(JSON.stringify(modelJson));
    unwrapped.modelTopology.model_config.config.input_layers = ["input_layer", 0, 0];
    unwrapped.modelTopology.model_config.config.output_layers = ["dense", 0, 0];
    expect(relativeDeviation(forwardGraph(parseLayersModelGraph(unwrapped, saved.weightData), [x], rows).outputs[0], expected)).toBeLessThan(1e-5);
    // A tensor passed as a keyword argument is refused, naming the layer.
    const kw = JSON.parse(JSON.stringify(modelJson));
    kw.modelTopology.model_config.config.layers[5].inbound_nodes[0] = { args: [kt("activation", [null, 8, 8, 4])], kwargs: { other: kt("conv2d_1", [null, 8, 8, 4]) } };
    expect(() => parseLayersModelGraph(kw, saved.weightData)).toThrow(/layer "add" \(Add\).*keyword argument/);
  });

  it("Keras 2 nodes under the Python converter's model_config wrapper", async () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 2, activation: "relu", ...s() }), tf.layers.flatten(), tf.layers.dense({ units: 2, ...s() })] });
    const saved = await saveToMemory(model);
    const wrapped = { ...saved.modelJson, modelTopology: { keras_version: "2.15.0", backend: "tensorflow", model_config: saved.modelJson.modelTopology } };
    const x = seededUniform(3 * 25, 1);
    expect(relativeDeviation(forwardGraph(parseLayersModelGraph(wrapped, saved.weightData), [x], 3).outputs[0], tfPredict(model, [x], 3)[0])).toBeLessThan(1e-5);
  });
});

/** A saved Sequential conv model whose layer `index` (0 = InputLayer) the case edits. */
async function base() {
  const model = tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: [6, 6, 2], name: "in" }),
      tf.layers.conv2d({ name: "conv", filters: 3, kernelSize: 3, ...s() }),
      tf.layers.flatten({ name: "flat" }),
      tf.layers.dense({ name: "out", units: 2, ...s() }),
    ],
  });
  return saveToMemory(model);
}

function refusal(f: () => unknown): ModelFormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error("expected a ModelFormatError, but the model was read");
}

describe("refused by name, class and why", () => {
  it("layer settings the forward pass does not compute", async () => {
    const saved = await base();
    const cases: [number, Record<string, unknown>, RegExp, string?][] = [
      [1, { data_format: "channels_first" }, /channels_last/],
      [1, { groups: 3 }, /grouped convolutions/],
      [1, { activation: "elu" }, /activation is not in the op set.*"elu"/],
      [1, { activation: { module: "keras.activations", class_name: "function", config: "swish", registered_name: null } }, /"swish"/],
      [1, { padding: "causal" }, /unsupported padding/],
      [2, { data_format: "channels_first" }, /channels_last/],
      [3, { activation: "gelu" }, /"gelu"/],
    ];
    for (const [index, change, why] of cases) {
      const json = JSON.parse(JSON.stringify(saved.modelJson));
      Object.assign(json.modelTopology.config.layers[index].config, change);
      const e = refusal(() => parseLayersModelGraph(json, saved.weightData));
      const l = json.modelTopology.config.layers[index];
      expect(e.layer).toBe(l.config.name);
      expect(e.className).toBe(l.class_name);
      expect(e.message).toMatch(why);
    }
  });

  it("layers outside the op set: Lambda, unknown classes, LeakyReLU, SeparableConv2D, Multiply, bilinear UpSampling2D, ReLU with a slope, dilated DepthwiseConv2D, BatchNorm over a non-channel axis", async () => {
    const saved = await base();
    const insert = (layer: unknown) => {
      const json = JSON.parse(JSON.stringify(saved.modelJson));
      json.modelTopology.config.layers.splice(2, 0, layer);
      return json;
    };
    for (const [layer, why] of [
      [{ class_name: "Lambda", config: { name: "lam", function: ["4wEAAAAAAAAA", null, null], function_type: "lambda" } }, /Lambda layer runs arbitrary code/],
      [{ class_name: "SomebodysOwnLayer", config: { name: "mystery" } }, /SomebodysOwnLayer is not in the op set/],
      [{ class_name: "LeakyReLU", config: { name: "leaky", alpha: 0.3 } }, /leaky relu/],
      [{ class_name: "UpSampling2D", config: { name: "up", size: [2, 2], interpolation: "bilinear", data_format: "channels_last" } }, /nearest/],
      [{ class_name: "ReLU", config: { name: "r", max_value: null, negative_slope: 0.1, threshold: 0 } }, /relu and relu6/],
      [{ class_name: "DepthwiseConv2D", config: { name: "dw", kernel_size: [1, 1], strides: [1, 1], padding: "same", dilation_rate: [2, 2], use_bias: false, depth_multiplier: 1 } }, /ignores dilation_rate/],
    ] as const) {
      const e = refusal(() => parseLayersModelGraph(insert(layer), saved.weightData));
      expect(e.layer).toBe(layer.config.name);
      expect(e.className).toBe(layer.class_name);
      expect(e.message).toMatch(why);
    }
    const withBn = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3, 3, 2], name: "bn" })] });
    const bnSaved = await saveToMemory(withBn);
    bnSaved.modelJson.modelTopology.config.layers[0].config.axis = 1;
    const bnError = refusal(() => parseLayersModelGraph(bnSaved.modelJson, bnSaved.weightData));
    expect([bnError.layer, bnError.className]).toEqual(["bn", "BatchNormalization"]);
    expect(bnError.message).toMatch(/only the last axis/);
    const sep = tf.sequential({ layers: [tf.layers.separableConv2d({ inputShape: [5, 5, 2], filters: 2, kernelSize: 3, name: "sep" })] });
    const sepSaved = await saveToMemory(sep);
    expect(refusal(() => parseLayersModelGraph(sepSaved.modelJson, sepSaved.weightData)).message).toMatch(/layer "sep" \(SeparableConv2D\): separable/);
  });

  it("graph structures: a shared layer called twice, a nested model, Multiply", async () => {
    const a = tf.input({ shape: [4] });
    const shared = tf.layers.dense({ units: 4, name: "shared", ...s() });
    const twice = tf.model({ inputs: a, outputs: sym(shared, sym(shared, a)) });
    const t = await saveToMemory(twice);
    const e1 = refusal(() => parseLayersModelGraph(t.modelJson, t.weightData));
    expect([e1.layer, e1.className]).toEqual(["shared", "Dense"]);
    expect(e1.message).toMatch(/called more than once/);

    const inner = tf.sequential({ name: "inner", layers: [tf.layers.dense({ inputShape: [4], units: 3, ...s() })] });
    const b = tf.input({ shape: [4] });
    const nested = tf.model({ inputs: b, outputs: inner.apply(b) as tf.SymbolicTensor });
    const n = await saveToMemory(nested);
    const e2 = refusal(() => parseLayersModelGraph(n.modelJson, n.weightData));
    expect([e2.layer, e2.className]).toEqual(["inner", "Sequential"]);
    expect(e2.message).toMatch(/nested models/);

    const c = tf.input({ shape: [4] });
    const m = tf.model({ inputs: c, outputs: sym(tf.layers.multiply({ name: "mul" }), [c, sym(tf.layers.dense({ units: 4, ...s() }), c)]) });
    const ms = await saveToMemory(m);
    const e3 = refusal(() => parseLayersModelGraph(ms.modelJson, ms.weightData));
    expect([e3.layer, e3.className]).toEqual(["mul", "Multiply"]);
  });

  it("weights that do not fit: a transposed kernel, a missing bias, a stray weight", async () => {
    const saved = await base();
    const transposed = JSON.parse(JSON.stringify(saved.modelJson));
    const dense = transposed.weightsManifest[0].weights.find((w: any) => w.name.startsWith("out/kernel"));
    dense.shape = [...dense.shape].reverse();
    const e1 = refusal(() => parseLayersModelGraph(transposed, saved.weightData));
    expect([e1.layer, e1.className, e1.code]).toEqual(["out", "Dense", "shape_mismatch"]);
    const noBias = JSON.parse(JSON.stringify(saved.modelJson));
    noBias.weightsManifest[0].weights = noBias.weightsManifest[0].weights.filter((w: any) => w.name !== "conv/bias");
    const e2 = refusal(() => parseLayersModelGraph(noBias, saved.weightData.slice(0, saved.weightData.byteLength - 12)));
    expect(e2).toBeInstanceOf(NetTrimError);
    expect(e2.message).toMatch(/conv/);
    const stray = JSON.parse(JSON.stringify(saved.modelJson));
    stray.weightsManifest[0].weights.push({ name: "ghost/w", shape: [2], dtype: "float32" });
    const bytes = new Uint8Array(saved.weightData.byteLength + 8);
    bytes.set(new Uint8Array(saved.weightData));
    expect(refusal(() => parseLayersModelGraph(stray, bytes.buffer)).message).toMatch(/"ghost\/w".*belongs to no layer|belongs to no layer.*"ghost\/w"/);
  });
});
