// The model graph's forward pass against real @tensorflow/tfjs 4.22 predictions, op by op: small
// models built in TF.js with seeded initialisers, saved to memory, read with parseLayersModelGraph,
// run on seeded inputs; every output within 1e-5 of TF.js's relative to its largest magnitude.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { forwardGraph, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { init, relativeDeviation, saveToMemory, seededUniform, tfPredict } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Layer = tf.layers.Layer;
let seed = 100;
const s = () => init(seed++);

/** Builds a Sequential model on `shape`, reads it and compares the forward pass with TF.js. */
async function compare(shape: number[], layers: Layer[], rows = 4): Promise<ModelGraph> {
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: shape }));
  for (const l of layers) model.add(l);
  return compareModel(model, rows);
}

async function compareModel(model: tf.LayersModel, rows = 4): Promise<ModelGraph> {
  const saved = await saveToMemory(model);
  const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
  const inputs = model.inputs.map((t, i) => seededUniform(rows * (t.shape.slice(1) as number[]).reduce((a, b) => a * b, 1), 7 + i));
  const ours = forwardGraph(graph, inputs, rows).outputs;
  const theirs = tfPredict(model, inputs, rows);
  expect(ours.length).toBe(theirs.length);
  for (let k = 0; k < ours.length; k++) {
    expect(ours[k].length).toBe(theirs[k].length);
    expect(relativeDeviation(ours[k], theirs[k])).toBeLessThan(1e-5);
  }
  return graph;
}

const ops = (g: ModelGraph) => g.nodes.map((n) => n.op);

describe("Conv2D", () => {
  it("strides, same/valid padding, odd and asymmetric sizes, with and without bias", async () => {
    for (const [strides, padding, kernelSize, useBias] of [
      [1, "same", 3, true], [1, "valid", 3, true], [2, "same", 3, true], [2, "valid", 3, false],
      [3, "same", [2, 4], true], [[2, 1], "valid", [3, 1], true], [[1, 3], "same", 5, false], [2, "same", 4, true],
    ] as const) {
      const g = await compare([11, 9, 3], [tf.layers.conv2d({ filters: 5, kernelSize: kernelSize as any, strides: strides as any, padding, useBias, ...s() })]);
      expect(ops(g)).toEqual(["input", "conv2d"]);
    }
  });

  it("dilations (same and valid)", async () => {
    for (const padding of ["same", "valid"] as const) {
      await compare([13, 10, 2], [tf.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding, ...s() })]);
      await compare([13, 10, 2], [tf.layers.conv2d({ filters: 3, kernelSize: [2, 3], dilationRate: [3, 2], padding, ...s() })]);
    }
  });

  it("each activation: relu, relu6, linear, sigmoid, tanh, softmax", async () => {
    for (const activation of ["relu", "relu6", "linear", "sigmoid", "tanh", "softmax"] as const) {
      await compare([7, 7, 2], [tf.layers.conv2d({ filters: 4, kernelSize: 3, activation, ...s() })]);
    }
  });
});

describe("DepthwiseConv2D", () => {
  // TF.js ignores a DepthwiseConv2D's dilation_rate (the reader refuses one: see graph-tfjs.test.ts).
  it("multipliers 1 and 3, strides, paddings, odd kernels, bias or not", async () => {
    for (const [depthMultiplier, strides, padding, kernelSize, useBias] of [
      [1, 1, "same", 3, true], [3, 1, "valid", 3, true], [2, 2, "same", [2, 3], false], [1, 2, "valid", 3, true], [2, 3, "same", 4, true], [1, [1, 2], "valid", [3, 1], false],
    ] as const) {
      const g = await compare([10, 9, 3], [tf.layers.depthwiseConv2d({
        kernelSize: kernelSize as any, depthMultiplier, strides: strides as any, padding, useBias, activation: "relu",
        depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed++ }), biasInitializer: tf.initializers.randomNormal({ seed: seed++, stddev: 0.3 }),
      })]);
      expect(ops(g)).toEqual(["input", "depthwiseConv2d"]);
    }
  });
});

function bnLayer(options: { center?: boolean; scale?: boolean; epsilon?: number } = {}): Layer {
  return tf.layers.batchNormalization({
    ...options,
    gammaInitializer: tf.initializers.randomNormal({ seed: seed++, mean: 1, stddev: 0.5 }),
    betaInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingMeanInitializer: tf.initializers.randomNormal({ seed: seed++ }),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.2, maxval: 3, seed: seed++ }),
  });
}

describe("BatchNormalization (inference form)", () => {
  it("on NHWC and on flat features; center/scale off; another epsilon", async () => {
    expect(ops(await compare([5, 4, 6], [bnLayer()]))).toEqual(["input", "batchNorm"]);
    await compare([7], [bnLayer({ center: false })]);
    await compare([3, 3, 4], [bnLayer({ scale: false, epsilon: 0.1 })]);
  });
});

describe("pooling", () => {
  it("max and average pooling: sizes, strides, same/valid, odd inputs", async () => {
    for (const pool of [tf.layers.maxPooling2d, tf.layers.averagePooling2d]) {
      for (const [poolSize, strides, padding] of [
        [2, undefined, "valid"], [2, undefined, "same"], [3, 2, "same"], [3, 2, "valid"], [[2, 3], [1, 2], "same"], [3, 1, "same"],
      ] as const) {
        await compare([9, 7, 3], [pool({ poolSize: poolSize as any, strides: strides as any, padding })]);
      }
    }
  });

  it("global average pooling", async () => {
    expect(ops(await compare([5, 3, 4], [tf.layers.globalAveragePooling2d({})]))).toEqual(["input", "globalAvgPool2d"]);
  });
});

describe("layout ops", () => {
  it("Flatten, Reshape (with -1), ZeroPadding2D (three forms), UpSampling2D", async () => {
    await compare([3, 4, 2], [tf.layers.flatten(), tf.layers.dense({ units: 3, ...s() })]);
    await compare([3, 4, 2], [tf.layers.reshape({ targetShape: [6, 4] }), tf.layers.dense({ units: 3, ...s() })]);
    await compare([12], [tf.layers.reshape({ targetShape: [2, 3, 2] }), tf.layers.conv2d({ filters: 2, kernelSize: 2, ...s() })]);
    for (const padding of [1, [2, 1], [[1, 0], [0, 3]]] as const) await compare([3, 4, 2], [tf.layers.zeroPadding2d({ padding: padding as any })]);
    for (const size of [[2, 2], [3, 1]] as const) await compare([3, 4, 2], [tf.layers.upSampling2d({ size: size as any })]);
  });

  it("a Reshape with -1 (hand-edited topology: TF.js's own layer leaves it unresolved here)", async () => {
    const model = tf.sequential({ layers: [tf.layers.reshape({ inputShape: [12], targetShape: [3, 4] }), tf.layers.dense({ units: 2, ...s() })] });
    const saved = await saveToMemory(model);
    const edited = JSON.parse(JSON.stringify(saved.modelJson));
    edited.modelTopology.config.layers[0].config.target_shape = [-1, 4];
    const graph = parseLayersModelGraph(edited, saved.weightData);
    expect(graph.nodes[1].shape).toEqual([3, 4]);
    const x = seededUniform(3 * 12, 5);
    expect(relativeDeviation(forwardGraph(graph, [x], 3).outputs[0], tfPredict(model, [x], 3)[0])).toBeLessThan(1e-5);
  });

  it("Dense over the last axis of a rank-3 input", async () => {
    expect(ops(await compare([3, 2, 5], [tf.layers.dense({ units: 4, activation: "sigmoid", ...s() })]))).toEqual(["input", "dense"]);
  });
});

describe("activations and identities", () => {
  it("Activation layers, ReLU (plain and max 6), Softmax layer, Dropout, Dense activations", async () => {
    for (const activation of ["relu", "relu6", "linear", "sigmoid", "tanh", "softmax"] as const) {
      await compare([6], [tf.layers.dense({ units: 5, ...s() }), tf.layers.activation({ activation }), tf.layers.dense({ units: 3, activation, ...s() })]);
    }
    const g = await compare([6], [
      tf.layers.dense({ units: 8, ...s() }), tf.layers.reLU({}), tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 8, ...s() }), tf.layers.reLU({ maxValue: 6 }), tf.layers.dense({ units: 3, ...s() }), tf.layers.softmax({}),
    ]);
    expect(ops(g)).toEqual(["input", "dense", "activation", "identity", "dense", "activation", "dense", "activation"]);
    const noise = await compare([6], [
      tf.layers.dense({ units: 8, ...s() }), tf.layers.gaussianNoise({ stddev: 0.5 }), tf.layers.gaussianDropout({ rate: 0.4 }),
      tf.layers.alphaDropout({ rate: 0.3 }), tf.layers.dense({ units: 3, ...s() }),
    ]);
    expect(ops(noise)).toEqual(["input", "dense", "identity", "identity", "identity", "dense"]);
  });

  it("a Sequential model without an InputLayer (batch_input_shape on the first layer)", async () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, ...s() }), tf.layers.flatten(), tf.layers.dense({ units: 3, ...s() })] });
    const g = await compareModel(model);
    expect(g.inputs).toHaveLength(1);
    expect(g.nodes[0].shape).toEqual([6, 6, 1]);
  });
});

describe("functional graphs", () => {
  it("a residual block (Add) and an inception-like Concatenate (channel and spatial axes), two inputs, two outputs", async () => {
    const a = tf.input({ shape: [8, 8, 3] });
    const b = tf.input({ shape: [4, 4, 5] });
    const c1 = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu", ...s() }).apply(a) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 1, ...s() }).apply(c1) as tf.SymbolicTensor;
    const bn = bnLayer().apply(c2) as tf.SymbolicTensor;
    const res = tf.layers.add().apply([bn, c1]) as tf.SymbolicTensor;
    const r = tf.layers.reLU({}).apply(res) as tf.SymbolicTensor;
    const branch1 = tf.layers.conv2d({ filters: 2, kernelSize: 1, ...s() }).apply(r) as tf.SymbolicTensor;
    const branch2 = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed++ }) }).apply(r) as tf.SymbolicTensor;
    const branch3 = tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: "same" }).apply(r) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ axis: -1 }).apply([branch1, branch2, branch3]) as tf.SymbolicTensor;
    const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(cat) as tf.SymbolicTensor;
    const bConv = tf.layers.conv2d({ filters: 14, kernelSize: 1, ...s() }).apply(b) as tf.SymbolicTensor;
    const stacked = tf.layers.concatenate({ axis: 1 }).apply([pooled, bConv]) as tf.SymbolicTensor;
    const g1 = tf.layers.globalAveragePooling2d({}).apply(stacked) as tf.SymbolicTensor;
    const out1 = tf.layers.dense({ units: 4, activation: "softmax", ...s() }).apply(g1) as tf.SymbolicTensor;
    const out2 = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: [out1, out2] });
    const g = await compareModel(model, 3);
    expect(g.inputs).toHaveLength(2);
    expect(g.outputs).toHaveLength(2);
    expect(ops(g).filter((o) => o === "add" || o === "concat")).toEqual(["add", "concat", "concat"]);
  });
});

describe("requested signals", () => {
  it("a layer's input, pre-activation and output: TF.js's intermediate outputs and its own conv2d / matMul; deterministic; inputs untouched", async () => {
    const a = tf.input({ shape: [9, 9, 2] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu", ...s() });
    const pool = tf.layers.maxPooling2d({ poolSize: 2 });
    const flat = tf.layers.flatten();
    const dense = tf.layers.dense({ units: 3, activation: "tanh", ...s() });
    const c = conv.apply(a) as tf.SymbolicTensor;
    const p = pool.apply(c) as tf.SymbolicTensor;
    const d = dense.apply(flat.apply(p)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: a, outputs: d });
    const saved = await saveToMemory(model);
    const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
    const rows = 5;
    const x = seededUniform(rows * 162, 11);
    const before = x.slice();
    const request = { outputsOf: [conv.name, flat.name], preActivationOf: [conv.name, dense.name] };
    const got = forwardGraph(graph, [x], rows, request);
    expect(x).toEqual(before);
    const again = forwardGraph(graph, [x], rows, request);
    for (const k of [conv.name, flat.name]) expect(again.values.get(k)).toEqual(got.values.get(k));
    expect(again.outputs[0]).toEqual(got.outputs[0]);

    const probe = tf.model({ inputs: a, outputs: [c, flat.output as tf.SymbolicTensor] });
    const [tfConv, tfFlat] = tf.tidy(() => (probe.predict(tf.tensor(x, [rows, 9, 9, 2])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
    expect(relativeDeviation(got.values.get(conv.name)!, tfConv)).toBeLessThan(1e-5);
    expect(relativeDeviation(got.values.get(flat.name)!, tfFlat)).toBeLessThan(1e-5);
    const [kernel, bias] = conv.getWeights();
    const tfPre = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [rows, 9, 9, 2]), kernel as tf.Tensor4D, 2, "same").add(bias).dataSync() as Float32Array);
    expect(relativeDeviation(got.preActivations.get(conv.name)!, tfPre)).toBeLessThan(1e-5);
    const [dk, db] = dense.getWeights();
    const tfDensePre = tf.tidy(() => tf.matMul(tf.tensor2d(tfFlat, [rows, tfFlat.length / rows]), dk).add(db).dataSync() as Float32Array);
    expect(relativeDeviation(got.preActivations.get(dense.name)!, tfDensePre)).toBeLessThan(1e-5);
    expect(got.preActivations.get(conv.name)!.some((v) => v < 0)).toBe(true); // really before the relu
  });

  it("refuses unknown names and wrong input lengths", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, ...s() })] });
    const saved = await saveToMemory(model);
    const graph = parseLayersModelGraph(saved.modelJson, saved.weightData);
    expect(() => forwardGraph(graph, [new Float32Array(6)], 2, { outputsOf: ["nope"] })).toThrow(/request.outputsOf/);
    expect(() => forwardGraph(graph, [new Float32Array(6)], 2, { preActivationOf: [graph.inputs[0]] })).toThrow(/dense or conv/);
    expect(() => forwardGraph(graph, [new Float32Array(5)], 2)).toThrow(/expected rows × 3/);
  });
});
