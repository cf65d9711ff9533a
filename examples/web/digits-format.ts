// The bundled-digits file (data/mnist-digits.bin), written at build time by data-plugin.ts and
// read by the page. One byte per pixel instead of float32: the `mnist` package stores k/255
// rounded to 3 decimals, so the byte k gives back exactly the package's value (the build checks).
//
// Layout (little-endian): "NTMD", u32 train count, u32 test count, u32 pixels per digit,
// train labels, test labels, train pixels, test pixels (row-major, one digit per row).

export interface Digits {
  /** [trainCount, pixels], the calibration digits (training split, interleaved 0..9). */ trainX: Float32Array;
  trainLabels: Uint8Array;
  /** [testCount, pixels], the held-out digits (last 200 of each digit). */ testX: Float32Array;
  testLabels: Uint8Array;
  pixels: number;
}

const MAGIC = [0x4e, 0x54, 0x4d, 0x44]; // "NTMD"
const HEADER = 16;

/** The pixel value byte k stands for. */
const LEVELS = Float32Array.from({ length: 256 }, (_, k) => Math.round((k / 255) * 1000) / 1000);

export function encodeDigits(d: Digits): Uint8Array {
  const nTrain = d.trainLabels.length, nTest = d.testLabels.length;
  const out = new Uint8Array(HEADER + nTrain + nTest + (nTrain + nTest) * d.pixels);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, nTrain, true);
  view.setUint32(8, nTest, true);
  view.setUint32(12, d.pixels, true);
  out.set(d.trainLabels, HEADER);
  out.set(d.testLabels, HEADER + nTrain);
  let o = HEADER + nTrain + nTest;
  for (const x of [d.trainX, d.testX]) {
    for (let i = 0; i < x.length; i++) {
      const k = Math.round(x[i] * 255);
      if (LEVELS[k] !== x[i]) throw new Error(`pixel value ${x[i]} is not one of the 256 levels of the mnist package`);
      out[o++] = k;
    }
  }
  return out;
}

export function decodeDigits(buffer: ArrayBuffer): Digits {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error("data/mnist-digits.bin is not a digits file");
  const view = new DataView(buffer);
  const nTrain = view.getUint32(4, true), nTest = view.getUint32(8, true), pixels = view.getUint32(12, true);
  if (bytes.length !== HEADER + (nTrain + nTest) * (pixels + 1)) throw new Error("data/mnist-digits.bin is truncated");
  const trainLabels = bytes.slice(HEADER, HEADER + nTrain);
  const testLabels = bytes.slice(HEADER + nTrain, HEADER + nTrain + nTest);
  const start = HEADER + nTrain + nTest;
  const pixelsOf = (from: number, count: number) => {
    const x = new Float32Array(count * pixels);
    for (let i = 0; i < x.length; i++) x[i] = LEVELS[bytes[from + i]];
    return x;
  };
  return {
    trainX: pixelsOf(start, nTrain), trainLabels,
    testX: pixelsOf(start + nTrain * pixels, nTest), testLabels,
    pixels,
  };
}
