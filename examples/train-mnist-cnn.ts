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
// Adam 1e-3, batch 64 (examples/training.ts, shared with train-mnist.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { loadMnist } from "./mnist-data.ts";
import { mulberry32 } from "./seeded-random.ts";
import { accuracy, checkReload, describeFiles, pickBackend, saveModel, train } from "./training.ts";

const SEED = 20170201;
const EPOCHS = 15;
const BATCH_SIZE = 64;
const LEARNING_RATE = 1e-3;
const SHIFT = 1;
const INPUT_SHAPE = [28, 28, 1];

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const outDir = path.join(repoRoot, "models", "mnist-cnn");

Math.random = mulberry32(SEED ^ 0x9e3779b9);
const shuffleRng = mulberry32(SEED);

function buildModel(): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: SEED + k });
  const model = tf.sequential({ name: "mnist_cnn" });
  model.add(tf.layers.conv2d({ name: "conv1", inputShape: INPUT_SHAPE, filters: 6, kernelSize: 5, activation: "relu", kernelInitializer: init(1) }));
  model.add(tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: "conv2", filters: 16, kernelSize: 5, activation: "relu", kernelInitializer: init(2) }));
  model.add(tf.layers.maxPooling2d({ name: "pool2", poolSize: 2 }));
  model.add(tf.layers.flatten({ name: "flatten" }));
  model.add(tf.layers.dense({ name: "fc1", units: 120, activation: "relu", kernelInitializer: init(3) }));
  model.add(tf.layers.dense({ name: "logits", units: 10, activation: "linear", kernelInitializer: init(4) }));
  model.compile({
    optimizer: tf.train.adam(LEARNING_RATE),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  return model;
}

async function main() {
  const backend = await pickBackend(repoRoot);
  const data = loadMnist();
  console.log(`backend: ${backend}; train ${data.trainLabels.length}, test ${data.testLabels.length}`);
  const model = buildModel();
  const trainSeconds = await train(model, data, { epochs: EPOCHS, batchSize: BATCH_SIZE, shift: SHIFT, rng: shuffleRng, inputShape: INPUT_SHAPE });
  const trainAcc = accuracy(model, data.trainX, data.trainLabels, INPUT_SHAPE);
  const testAcc = accuracy(model, data.testX, data.testLabels, INPUT_SHAPE);
  console.log(`train accuracy ${(trainAcc * 100).toFixed(2)}%, test accuracy ${(testAcc * 100).toFixed(2)}%, training ${trainSeconds.toFixed(1)} s on ${backend}`);
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
| initialization | Glorot uniform kernels (seeds ${SEED + 1}…${SEED + 4}), zero biases |
| seed | ${SEED} (shuffle and shifts: mulberry32; \`Math.random\` seeded too) |
| backend | @tensorflow/tfjs ${tf.version.tfjs}, \`${backend}\` backend |
| training time | ${trainSeconds.toFixed(0)} s (2-core machine, Node ${process.versions.node}) |

To re-make it (overwrites this directory): \`npx tsx examples/train-mnist-cnn.ts\`.
`);
  console.log(`wrote ${outDir}: model.json ${jsonBytes} B, weights.bin ${binBytes} B, README.md`);
}

main().catch((e) => { console.error(e); process.exit(1); });
