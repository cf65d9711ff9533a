// Trains the bundled MNIST CNN (models/mnist-cnn/) reproducibly, in TF.js LayersModel format.
//
//   npx tsx examples/train-mnist-cnn.ts
//
// Architecture (LeNet-style, ReLU): [28, 28, 1] -> Conv2D(6, 5×5, valid, relu) -> MaxPool(2)
//   -> Conv2D(16, 5×5, valid, relu) -> MaxPool(2) -> Flatten (256) -> Dense(120, relu)
//   -> Dense(10, linear logits); loss = softmax cross-entropy from the logits. Small on purpose:
//   the first conv layer's output on 8,000 calibration digits is 8000·24·24·6 f32 (110 MB) per
//   buffer of its solve. No dropout.
// Data and recipe: the fixed split of examples/mnist-data.ts, seeded shuffles and ±1 pixel shifts,
// Adam 1e-3, batch 64. The weights are trained by examples/train-mnist-cnn.py with Debian's
// python3-torch (/usr/bin/python3; tfjs cannot train convs fast here, see that file), then put into
// the same network built in TF.js, whose accuracy is checked against PyTorch's and which is saved
// and reloaded as the MLP is (examples/training.ts).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { loadMnist } from "./mnist-data.ts";
import { accuracy, checkReload, describeFiles, pickBackend, saveModel } from "./training.ts";

const SEED = 20170201;
const EPOCHS = 30;
const BATCH_SIZE = 64;
const LEARNING_RATE = 1e-3;
const SHIFT = 1;
const INPUT_SHAPE = [28, 28, 1];

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const outDir = path.join(repoRoot, "models", "mnist-cnn");

function buildModel(): tf.Sequential {
  const model = tf.sequential({ name: "mnist_cnn" });
  model.add(tf.layers.conv2d({ name: "conv1", inputShape: INPUT_SHAPE, filters: 6, kernelSize: 5, activation: "relu" }));
  model.add(tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: "conv2", filters: 16, kernelSize: 5, activation: "relu" }));
  model.add(tf.layers.maxPooling2d({ name: "pool2", poolSize: 2 }));
  model.add(tf.layers.flatten({ name: "flatten" }));
  model.add(tf.layers.dense({ name: "fc1", units: 120, activation: "relu" }));
  model.add(tf.layers.dense({ name: "logits", units: 10, activation: "linear" }));
  return model;
}

/** Trains in PyTorch on the same split; returns the tensors in manifest order and the accuracies. */
function trainInTorch(data: ReturnType<typeof loadMnist>, order: string[], sizes: number[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cnn-"));
  try {
    const write = (name: string, a: Float32Array | Uint8Array) => fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    write("train-x.f32", data.trainX); write("train-y.u8", data.trainLabels);
    write("test-x.f32", data.testX); write("test-y.u8", data.testLabels);
    fs.writeFileSync(path.join(dir, "settings.json"), JSON.stringify({ seed: SEED, epochs: EPOCHS, batchSize: BATCH_SIZE, learningRate: LEARNING_RATE, shift: SHIFT, order }));
    execFileSync("/usr/bin/python3", [path.join(here, "train-mnist-cnn.py"), dir], { stdio: "inherit" });
    const raw = fs.readFileSync(path.join(dir, "weights.f32"));
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    let at = 0;
    const tensors = sizes.map((n) => all.slice(at, (at += n)));
    if (at !== all.length) throw new Error(`PyTorch wrote ${all.length} weights, the network has ${at}`);
    return { tensors, torch: JSON.parse(fs.readFileSync(path.join(dir, "result.json"), "utf8")) as { train: number; test: number; torch: string } };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const backend = await pickBackend(repoRoot);
  const data = loadMnist();
  console.log(`backend: ${backend}; train ${data.trainLabels.length}, test ${data.testLabels.length}`);
  const model = buildModel();
  const t0 = performance.now();
  const weights = model.weights.map((w) => ({ name: w.name, shape: w.shape as number[] }));
  const { tensors, torch } = trainInTorch(data, weights.map((w) => w.name), weights.map((w) => w.shape.reduce((a, b) => a * b, 1)));
  const trainSeconds = (performance.now() - t0) / 1000;
  model.setWeights(tensors.map((t, i) => tf.tensor(t, weights[i].shape)));
  const trainAcc = accuracy(model, data.trainX, data.trainLabels, INPUT_SHAPE);
  const testAcc = accuracy(model, data.testX, data.testLabels, INPUT_SHAPE);
  console.log(`TF.js: train ${(trainAcc * 100).toFixed(2)}%, test ${(testAcc * 100).toFixed(2)}%; PyTorch ${torch.torch}: train ${(torch.train * 100).toFixed(2)}%, test ${(torch.test * 100).toFixed(2)}%; training ${trainSeconds.toFixed(1)} s`);
  // The same network in both: the accuracies may differ only by a sample whose logits tie within rounding.
  if (Math.abs(trainAcc - torch.train) > 2 / data.trainLabels.length || Math.abs(testAcc - torch.test) > 2 / data.testLabels.length) {
    throw new Error("the TF.js network does not reproduce PyTorch's accuracies: a layout mismatch");
  }
  await saveModel(model, outDir);
  await checkReload(model, outDir, data, INPUT_SHAPE, { train: trainAcc, test: testAcc });
  const { weightList, binBytes, jsonBytes } = describeFiles(outDir);
  const params = model.countParams();
  fs.writeFileSync(path.join(outDir, "README.md"), `# mnist-cnn: the bundled MNIST CNN

A LeNet-style convolutional network trained on the fixed MNIST split of \`examples/mnist-data.ts\`
(digits as [28, 28, 1] images, pixels in [0, 1]), saved in TF.js LayersModel format.

| | |
|---|---|
| train accuracy (8,000 digits) | ${(trainAcc * 100).toFixed(2)}% |
| test accuracy (2,000 digits) | ${(testAcc * 100).toFixed(2)}% |
| parameters | ${params} |

## Files

- \`model.json\` (${jsonBytes} bytes): a Sequential \`modelTopology\` as TF.js writes it, one \`weightsManifest\` group.
- \`weights.bin\` (${binBytes} bytes): float32 little-endian, in manifest order: ${weightList}.

Layers: \`conv1\` Conv2D 6 filters 5×5 valid, relu → \`pool1\` MaxPooling2D 2 → \`conv2\` Conv2D 16
filters 5×5 valid, relu → \`pool2\` MaxPooling2D 2 → \`flatten\` → \`fc1\` Dense 120, relu →
\`logits\` Dense 10, linear. Conv kernels are [kh, kw, inC, outC], Dense kernels [in, units].

## How it was made

| setting | value |
|---|---|
| data | \`loadMnist()\`: 8,000 training digits, 2,000 test digits, reshaped to [28, 28, 1] |
| loss | softmax cross-entropy from logits |
| optimizer | Adam, learning rate ${LEARNING_RATE} |
| epochs, batch | ${EPOCHS}, ${BATCH_SIZE} |
| augmentation | each training image shifted by a seeded random (dx, dy) in [-${SHIFT}, ${SHIFT}] pixels |
| initialization | Glorot (Xavier) uniform kernels, zero biases |
| seed | ${SEED} (torch.manual_seed and numpy's default_rng for the shuffle and shifts) |
| trained by | PyTorch ${torch.torch} (Debian python3-torch, one thread), \`examples/train-mnist-cnn.py\`; saved by @tensorflow/tfjs ${tf.version.tfjs} (\`${backend}\` backend) |
| training time | ${trainSeconds.toFixed(0)} s (2-core machine) |

To re-make it (overwrites this directory; needs \`apt-get install python3-torch\`):
\`npx tsx examples/train-mnist-cnn.ts\`. PyTorch trains because tfjs cannot train the convs at a
usable speed here (its wasm backend has no filter-gradient kernel; its cpu backend took 13 minutes
per epoch). The TF.js network is built with the same layers, given PyTorch's weights in TF.js
layouts (conv kernels [kh, kw, inC, outC], flatten in NHWC order), and its accuracies are checked
against PyTorch's before saving.
`);
  console.log(`wrote ${outDir}: model.json ${jsonBytes} B, weights.bin ${binBytes} B, README.md`);
}

main().catch((e) => { console.error(e); process.exit(1); });
