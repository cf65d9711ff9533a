// The bundled MNIST MLP without its first layer (300-100-10: hidden2 and logits) as a model of
// its own, and calibration for it: hidden1's activations on the first training digits. The CLI
// tests whose checks do not depend on the model's size prune this one: the 784×300 first layer
// is ~88% of the bundled model's solve time.
import * as fs from "node:fs";
import * as path from "node:path";
import { forward } from "../../bindings/index.ts";
import { readLayersModelDir } from "../../bindings/node/files.ts";
import { loadMnist, PIXELS } from "../../examples/mnist-data.ts";
import { ROOT } from "./cli.ts";
import { npy } from "./npy.ts";

export const BUNDLED_MLP = path.join(ROOT, "models", "mnist-mlp", "model.json");
export const SMALL_MLP_INPUTS = 300;

export interface SmallMlp {
  /** The model.json (its weights in w.bin beside it). */
  model: string;
  /** The calibration .npy: [samples, 300]. */
  calibration: string;
  /** The same calibration rows. */
  activations: Float32Array;
}

/**
 * Writes the small model and `samples` calibration rows (.npy, float32 or float64) into `dir`;
 * `source` another 784-300-100-10 model (models/mnist-mlp-nodropout) for a second small model.
 */
export function writeSmallMlp(dir: string, samples: number, dtype: "float32" | "float64" = "float32", source = BUNDLED_MLP): SmallMlp {
  fs.mkdirSync(dir, { recursive: true });
  const mj = JSON.parse(fs.readFileSync(source, "utf8"));
  const dense = mj.modelTopology.config.layers.filter((l: { class_name: string }) => l.class_name === "Dense");
  dense[1].config.batch_input_shape = [null, SMALL_MLP_INPUTS];
  mj.modelTopology.config.layers = [dense[1], dense[2]];
  mj.weightsManifest = [{ paths: ["w.bin"], weights: mj.weightsManifest[0].weights.slice(2) }];
  const model = path.join(dir, "model.json");
  fs.writeFileSync(model, JSON.stringify(mj));
  const original = readLayersModelDir(source).network;
  const [, h2, lo] = original.layers;
  fs.writeFileSync(path.join(dir, "w.bin"), Buffer.concat([h2.kernel, h2.bias, lo.kernel, lo.bias].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  const activations = forward(original, loadMnist().trainX.subarray(0, samples * PIXELS), samples)[0];
  const calibration = path.join(dir, `calib-${samples}-${dtype}.npy`);
  fs.writeFileSync(calibration, npy(dtype === "float64" ? Float64Array.from(activations) : activations, samples, SMALL_MLP_INPUTS));
  return { model, calibration, activations };
}
