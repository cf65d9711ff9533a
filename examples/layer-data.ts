// Layer-wise Net-Trim problems from the bundled MNIST model (models/mnist-mlp/), without tfjs:
// model.json and its weight file are parsed here with node:fs.
//
//   mnistLayerProblem(P)   first Dense layer:  input [P, 784] pixels, output [P, 300]
//   mnistLayer2Problem(P)  second Dense layer: input [P, 300] = layer-1 output, output [P, 100]
//
// Inputs are the first P samples of the fixed training split (examples/mnist-data.ts).
// Outputs are relu(input·W + b), accumulated in f64 and stored as f32.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMnist, PIXELS } from "./mnist-data.ts";

export const MNIST_MLP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "models", "mnist-mlp");

/** One Net-Trim layer problem: find sparse W with relu(input·W + b) ≈ output. */
export interface LayerProblem {
  /** [P, N] row-major. */ input: Float32Array;
  /** [P, M] row-major, relu(input·weights + bias). */ output: Float32Array;
  /** [N, M] row-major (TF.js Dense kernel layout, y = x·W + b). */ weights: Float32Array;
  /** [M]. */ bias: Float32Array;
  P: number;
  N: number;
  M: number;
}

/** A Dense layer read from model.json. */
export interface DenseLayer {
  name: string;
  activation: string;
  /** [inputs, units] row-major. */ kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

interface WeightEntry { name: string; shape: number[]; dtype?: string; quantization?: unknown }

/**
 * Reads the Dense layers of a TF.js LayersModel saved as model.json + weight files.
 * Dropout (and other weightless) layers in the topology are skipped.
 */
export function loadDenseLayers(dir: string = MNIST_MLP_DIR): DenseLayer[] {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const topology = json.modelTopology.model_config ?? json.modelTopology;
  const layers: { class_name: string; config: { name: string; units?: number; activation?: string; use_bias?: boolean } }[] =
    topology.config.layers ?? topology.config;

  // Weight values by name; each manifest group is the concatenation of its files.
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of json.weightsManifest as { paths: string[]; weights: WeightEntry[] }[]) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if ((w.dtype ?? "float32") !== "float32" || w.quantization) {
        throw new Error(`${w.name}: only unquantized float32 weights are supported`);
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(offset + 4 * i);
      offset += 4 * n;
      values.set(w.name, { shape: w.shape, data });
    }
  }

  const dense: DenseLayer[] = [];
  for (const layer of layers) {
    if (layer.class_name !== "Dense") continue; // Dropout, InputLayer, ...: no weights, identity at inference
    const { name } = layer.config;
    const kernel = values.get(`${name}/kernel`);
    if (!kernel) throw new Error(`no weights ${name}/kernel in the manifest`);
    const [inputs, units] = kernel.shape;
    const bias = layer.config.use_bias === false ? new Float32Array(units) : values.get(`${name}/bias`)?.data;
    if (!bias) throw new Error(`no weights ${name}/bias in the manifest`);
    dense.push({ name, activation: layer.config.activation ?? "linear", kernel: kernel.data, bias, inputs, units });
  }
  return dense;
}

/**
 * relu(X·W + b) for X [P, N], W [N, M], in f64, stored as f32.
 * Row by row: out_p = b + Σ_i x_pi · W_i (skips x_pi = 0, which most MNIST pixels and relu outputs are).
 */
export function reluDense(x: Float32Array, P: number, N: number, w: Float32Array, b: Float32Array, M: number): Float32Array {
  const out = new Float32Array(P * M);
  const acc = new Float64Array(M);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < M; j++) acc[j] = b[j];
    const xo = p * N;
    for (let i = 0; i < N; i++) {
      const v = x[xo + i];
      if (v === 0) continue;
      const wo = i * M;
      for (let j = 0; j < M; j++) acc[j] += v * w[wo + j];
    }
    const oo = p * M;
    for (let j = 0; j < M; j++) out[oo + j] = acc[j] > 0 ? acc[j] : 0;
  }
  return out;
}

function checkP(P: number, max: number): void {
  if (!Number.isInteger(P) || P < 1 || P > max) throw new Error(`P must be an integer in [1, ${max}], got ${P}`);
}

/** First layer (784 -> 300, relu) on the first P training digits. */
export function mnistLayerProblem(P: number, dir: string = MNIST_MLP_DIR): LayerProblem {
  const { trainX, trainLabels } = loadMnist();
  checkP(P, trainLabels.length);
  const [l1] = loadDenseLayers(dir);
  if (l1.inputs !== PIXELS || l1.activation !== "relu") throw new Error(`unexpected first layer ${l1.name}`);
  const input = trainX.slice(0, P * PIXELS);
  const output = reluDense(input, P, PIXELS, l1.kernel, l1.bias, l1.units);
  return { input, output, weights: l1.kernel, bias: l1.bias, P, N: PIXELS, M: l1.units };
}

/** Second layer (300 -> 100, relu): input is the (f32) first-layer output on the first P training digits. */
export function mnistLayer2Problem(P: number, dir: string = MNIST_MLP_DIR): LayerProblem {
  const first = mnistLayerProblem(P, dir);
  const [, l2] = loadDenseLayers(dir);
  if (l2.inputs !== first.M || l2.activation !== "relu") throw new Error(`unexpected second layer ${l2.name}`);
  const output = reluDense(first.output, P, first.M, l2.kernel, l2.bias, l2.units);
  return { input: first.output, output, weights: l2.kernel, bias: l2.bias, P, N: first.M, M: l2.units };
}
