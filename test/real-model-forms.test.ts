// The form of the real LayersModels nsfwjs 4.4.0 ships (bench/real-models.bench.ts prunes them),
// reproduced offline by test/fixtures/nsfwjs-forms.json: layer configs copied from nsfwjs's
// Keras 2.2.4 MobileNetV2 and InceptionV3 in miniature, the {keras_version, backend, model_config}
// wrapper with no `format` field; the weights seeded uint8 bytes in a uint8-quantized manifest
// ordered by layer name, as nsfwjs's are. TF.js dequantizes and computes independently: our
// reader and forward pass must agree with it, and so must TF.js on what we write back.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  foldBatchNorms, forwardGraph, isPrunable, parseLayersModelGraph, writeLayersModelGraph, type ModelGraph,
} from "../bindings/index.ts";
import { relativeDeviation, seededUniform } from "./helpers/tfjs-models.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const fixture = JSON.parse(readFileSync(new URL("./fixtures/nsfwjs-forms.json", import.meta.url), "utf8"));

/** uint8 quantization range per weight role: [min, max]; variances positive, gammas near 1. */
const RANGE: Record<string, [number, number]> = {
  kernel: [-0.6, 0.6], depthwise_kernel: [-0.6, 0.6], bias: [-0.2, 0.2],
  gamma: [0.6, 1.4], beta: [-0.3, 0.3], moving_mean: [-0.4, 0.4], moving_variance: [0.3, 1.8],
};

interface Case { name: "mobilenet_v2" | "inception_v3"; probes: string[]; merge: string }
const CASES: Case[] = [
  { name: "mobilenet_v2", probes: ["block_1_pad", "block_2_add", "out_relu", "dense_2", "dense_3"], merge: "add" },
  { name: "inception_v3", probes: ["max_pooling2d_1", "average_pooling2d_1", "mixed0", "dense_1", "dense_3"], merge: "concat" },
];

/** The fixture's topology with seeded uint8 weights: model.json as nsfwjs has it, and its one shard. */
async function withWeights(name: string, seed: number): Promise<{ modelJson: any; weightData: ArrayBuffer }> {
  const modelTopology = fixture[name].modelTopology;
  const shapes = await tf.models.modelFromJSON({ modelTopology });
  const specs = shapes.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
  shapes.dispose();
  const layerOf = (n: string) => n.slice(0, n.lastIndexOf("/"));
  const order = [...new Set(specs.map((s) => layerOf(s.name)))].sort();
  const weights = order.flatMap((layer) => specs.filter((s) => layerOf(s.name) === layer)).map((s) => {
    const [min, max] = RANGE[s.name.slice(s.name.lastIndexOf("/") + 1)];
    return { ...s, dtype: "float32", quantization: { min, scale: (max - min) / 255, dtype: "uint8" } };
  });
  const total = weights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
  const bytes = Uint8Array.from(seededUniform(total, seed), (v) => Math.min(255, Math.floor(((v + 1) / 2) * 256)));
  return { modelJson: { modelTopology, weightsManifest: [{ paths: ["group1-shard1of1"], weights }] }, weightData: bytes.buffer };
}

async function tfjsModel(modelJson: any, weightData: ArrayBuffer): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
}

/** TF.js's outputs of the named layers. */
function tfjsLayerOutputs(model: tf.LayersModel, names: string[], x: Float32Array, rows: number): Float32Array[] {
  return tf.tidy(() => {
    const probe = tf.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
    const ys = probe.predict(tf.tensor(x, [rows, ...(model.inputs[0].shape.slice(1) as number[])])) as tf.Tensor[];
    return ys.map((y) => y.dataSync() as Float32Array);
  });
}

/** Zeroes the smaller half (by magnitude) of every dense/conv kernel (the test's own pruning). */
function pruneHalf(graph: ModelGraph): ModelGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      if (!isPrunable(n)) return n;
      const cut = Float32Array.from(n.kernel, Math.abs).sort()[Math.floor(n.kernel.length / 2)];
      return { ...n, kernel: n.kernel.map((v) => (Math.abs(v) < cut ? 0 : v)) };
    }),
  };
}

const inputFor = (graph: ModelGraph, rows: number, seed: number) => {
  const size = graph.nodes.find((n) => n.name === graph.inputs[0])!.shape.reduce((a, b) => a * b, 1);
  return seededUniform(rows * size, seed).map((v) => (v + 1) / 2); // pixels / 255, as nsfwjs feeds them
};

describe.each(CASES)("nsfwjs form: $name in miniature", ({ name, probes, merge }) => {
  it("read as TF.js reads it: every probed layer's output (pooling, padding, merge, dense, softmax) within 1e-5", async () => {
    const { modelJson, weightData } = await withWeights(name, 11);
    const graph = parseLayersModelGraph(modelJson, weightData);
    expect(graph.nodes.some((n) => n.op === merge)).toBe(true);
    expect(graph.nodes.filter(isPrunable).length).toBe(modelJson.modelTopology.model_config.config.layers.filter((l: any) => /Conv2D|Dense/.test(l.class_name)).length);
    const rows = 3;
    const x = inputFor(graph, rows, 5);
    const ours = forwardGraph(graph, [x], rows, { outputsOf: probes });
    const theirs = tfjsLayerOutputs(await tfjsModel(modelJson, weightData), probes, x, rows);
    for (const [i, p] of probes.entries()) {
      const a = ours.values.get(p)!;
      expect(a.length, p).toBe(theirs[i].length);
      expect(Math.max(...a.map(Math.abs)), `${p} is not all zero`).toBeGreaterThan(0);
      expect(relativeDeviation(a, theirs[i]), p).toBeLessThan(1e-5);
    }
  });

  it("folded, pruned, written back: TF.js loads it and predicts as our forward pass; topology and manifest names kept", async () => {
    const { modelJson, weightData } = await withWeights(name, 12);
    const graph = parseLayersModelGraph(modelJson, weightData);
    const pruned = pruneHalf(foldBatchNorms(graph).graph);
    const written = writeLayersModelGraph(modelJson, pruned);
    const out = written.modelJson as any;
    expect(out.modelTopology).toEqual(modelJson.modelTopology);
    expect(out.weightsManifest[0].weights.map((w: any) => w.name)).toEqual(modelJson.weightsManifest[0].weights.map((w: any) => w.name));
    const rows = 3;
    const x = inputFor(graph, rows, 6);
    const ours = forwardGraph(pruned, [x], rows, { outputsOf: probes });
    const theirs = tfjsLayerOutputs(await tfjsModel(out, written.weightData), probes, x, rows);
    for (const [i, p] of probes.entries()) expect(relativeDeviation(ours.values.get(p)!, theirs[i]), p).toBeLessThan(1e-5);
    // The pruning changed the model (so the check above compares the written weights, not the original ones).
    const original = forwardGraph(graph, [x], rows, { outputsOf: [probes[3]] }).values.get(probes[3])!;
    expect(relativeDeviation(ours.values.get(probes[3])!, original)).toBeGreaterThan(1e-3);
  });
});
