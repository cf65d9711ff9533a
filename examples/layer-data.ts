// Layer-wise Net-Trim problems from the bundled MNIST model (models/mnist-mlp/).
//
//   mnistLayerProblem(P)   first Dense layer:  input [P, 784] pixels, output [P, 300]
//   mnistLayer2Problem(P)  second Dense layer: input [P, 300] = layer-1 output, output [P, 100]
//
// Inputs are the first P samples of the fixed training split (examples/mnist-data.ts).
// Outputs are relu(input·W + b), accumulated in f64 and stored as f32.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readLayersModelDir } from "../bindings/node/files.ts";
import { applyLayer } from "../bindings/network/forward.ts";
import type { DenseLayerSpec } from "../bindings/index.ts";
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

function denseLayers(dir: string): DenseLayerSpec[] {
  return readLayersModelDir(path.join(dir, "model.json")).network.layers;
}

function checkP(P: number, max: number): void {
  if (!Number.isInteger(P) || P < 1 || P > max) throw new Error(`P must be an integer in [1, ${max}], got ${P}`);
}

/** First layer (784 -> 300, relu) on the first P training digits. */
export function mnistLayerProblem(P: number, dir: string = MNIST_MLP_DIR): LayerProblem {
  const { trainX, trainLabels } = loadMnist();
  checkP(P, trainLabels.length);
  const [l1] = denseLayers(dir);
  if (l1.inputs !== PIXELS || l1.activation !== "relu") throw new Error(`unexpected first layer ${l1.name}`);
  const input = trainX.slice(0, P * PIXELS);
  const output = applyLayer(l1, input, P, true);
  return { input, output, weights: l1.kernel, bias: l1.bias, P, N: PIXELS, M: l1.units };
}

/** Second layer (300 -> 100, relu): input is the (f32) first-layer output on the first P training digits. */
export function mnistLayer2Problem(P: number, dir: string = MNIST_MLP_DIR): LayerProblem {
  const first = mnistLayerProblem(P, dir);
  const [, l2] = denseLayers(dir);
  if (l2.inputs !== first.M || l2.activation !== "relu") throw new Error(`unexpected second layer ${l2.name}`);
  const output = applyLayer(l2, first.output, P, true);
  return { input: first.output, output, weights: l2.kernel, bias: l2.bias, P, N: first.M, M: l2.units };
}
