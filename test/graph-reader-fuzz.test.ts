// A property test of the graph reader written as a seeded loop (fast-check is not installed):
// thousands of random mutations of real model.json files (values replaced, keys deleted, layers
// dropped, duplicated or swapped, weight data cut) must either read as a graph whose forward pass
// runs to finite outputs, or be refused with a NetTrimError; never a TypeError, a RangeError, NaN.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { forwardGraph, NetTrimError, parseLayersModelGraph } from "../bindings/index.ts";
import { init, saveToMemory, type SavedModel } from "./helpers/tfjs-models.ts";

let models: SavedModel[] = [];

beforeAll(async () => {
  await tf.setBackend("cpu");
  const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
  const a = tf.input({ shape: [6, 6, 2] });
  const c = sym(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", ...init(1) }), a);
  const b = sym(tf.layers.batchNormalization({}), c);
  const r = sym(tf.layers.reLU({}), sym(tf.layers.add(), [b, sym(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same" }), c)]));
  const p = sym(tf.layers.maxPooling2d({ poolSize: 2 }), sym(tf.layers.zeroPadding2d({ padding: 1 }), r));
  const cat = sym(tf.layers.concatenate(), [p, sym(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same" }), p)]);
  const out = sym(tf.layers.dense({ units: 3, activation: "softmax", ...init(2) }), sym(tf.layers.flatten(), sym(tf.layers.upSampling2d({ size: [2, 2] }), cat)));
  models = [
    await saveToMemory(tf.model({ inputs: a, outputs: out })),
    await saveToMemory(tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [16], targetShape: [4, 4, 1] }), tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: "relu6", ...init(3) }),
        tf.layers.globalAveragePooling2d({}), tf.layers.dropout({ rate: 0.1 }), tf.layers.dense({ units: 2, activation: "tanh", ...init(4) }),
      ],
    })),
  ];
});

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPLACEMENTS: unknown[] = [
  null, -1, 0, 1, 2, 3, 1.5, -0.5, 1e9, NaN, "", "x", "same", "valid", "relu", "swish", "channels_first", "float16", "uint8",
  [], [0], [1, 1], [2, 2], [-1], [[1, 1], [1, 1]], [null, 3], {}, { class_name: "__keras_tensor__", config: { keras_history: ["x", 0, 0] } }, true, false,
];

/** Every (container, key) of a JSON value. */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); slots(x, out); });
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) { out.push([v as Record<string, unknown>, k]); slots(x, out); }
  return out;
}

function mutate(json: any, next: () => number): void {
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const kind = next();
  const layers: unknown[] = Array.isArray(json?.modelTopology?.config?.layers) ? json.modelTopology.config.layers : [];
  if (layers.length === 0) { /* the topology is already broken: only value mutations below */ }
  else if (kind < 0.1 && layers.length > 1) layers.splice(Math.floor(next() * layers.length), 1);
  else if (kind < 0.15) layers.splice(Math.floor(next() * layers.length), 0, JSON.parse(JSON.stringify(pick(layers))));
  else if (kind < 0.2) {
    const i = Math.floor(next() * layers.length), j = Math.floor(next() * layers.length);
    [layers[i], layers[j]] = [layers[j], layers[i]];
  }
  if (layers.length === 0 || kind >= 0.2) {
    const all = slots(json);
    if (all.length === 0) return;
    const [container, key] = pick(all);
    if (next() < 0.15) {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key as string];
    } else (container as any)[key] = JSON.parse(JSON.stringify(pick(REPLACEMENTS)) ?? "null");
  }
}

describe("graph reader on mutated model.json (seeded loop)", () => {
  it("every outcome is a working graph or a NetTrimError", () => {
    const next = rng(20261202);
    let refused = 0, read = 0;
    const foreign: string[] = [];
    for (let iter = 0; iter < 3000; iter++) {
      const base = models[iter % models.length];
      const json = JSON.parse(JSON.stringify(base.modelJson));
      const mutations = 1 + Math.floor(next() * 3);
      for (let m = 0; m < mutations; m++) mutate(json, next);
      let data = base.weightData;
      if (next() < 0.05) data = data.slice(0, Math.floor(next() * data.byteLength));
      try {
        const graph = parseLayersModelGraph(json, data);
        const inputs = graph.inputs.map((name) => new Float32Array(2 * graph.nodes.find((n) => n.name === name)!.shape.reduce((p, d) => p * d, 1)).fill(0.5));
        const out = forwardGraph(graph, inputs, 2).outputs;
        expect(out.length).toBe(graph.outputs.length);
        // The weights are the real ones and the input is finite: a non-finite output means a setting was read wrongly.
        const bad = out.findIndex((o) => o.some((v) => !Number.isFinite(v)));
        if (bad >= 0 && foreign.length < 5) foreign.push(`iteration ${iter}: non-finite output ${bad} (read as a graph)`);
        read++;
      } catch (e) {
        if (e instanceof NetTrimError) refused++;
        else if (foreign.length < 5) foreign.push(`iteration ${iter}: ${String(e)}\n${(e as Error).stack?.split("\n").slice(1, 4).join("\n")}`);
      }
    }
    expect(foreign).toEqual([]);
    expect(refused).toBeGreaterThan(1000); // the mutations do hit
    expect(read).toBeGreaterThan(100); // and some are harmless (names, initialisers, trainable flags)
  });
});
