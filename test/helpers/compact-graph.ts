// A small seeded model graph for the compact file, built the same way in Node and in the browser
// (no Node built-ins), with the size and CRC-32 its float32 and float16 files have: the browser
// test checks that Chromium writes the same bytes.
import { buildGraph, type ModelGraph } from "../../bindings/index.ts";
import { mulberry32 } from "../../examples/seeded-random.ts";

function sparse(seed: number, length: number, density: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length }, () => {
    const keep = u() < density;
    const v = (u() - 0.5) * 2 ** (4 * u() - 6);
    return keep ? v : 0;
  });
}

export function seededCompactGraph(): ModelGraph {
  return buildGraph([
    { name: "image", op: "input", inputs: [], shape: [12, 12, 2] },
    { name: "conv", op: "conv2d", inputs: ["image"], filters: 8, kernelSize: [3, 3], strides: [1, 1], padding: "valid", dilation: [1, 1], activation: "relu", kernel: sparse(1, 3 * 3 * 2 * 8, 0.2), bias: sparse(2, 8, 1) },
    { name: "pool", op: "maxPool2d", inputs: ["conv"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
    { name: "flat", op: "flatten", inputs: ["pool"] },
    { name: "hidden", op: "dense", inputs: ["flat"], units: 40, activation: "relu", kernel: sparse(3, 200 * 40, 0.1), bias: sparse(4, 40, 0.5) },
    { name: "logits", op: "dense", inputs: ["hidden"], units: 10, activation: "linear", kernel: sparse(5, 400, 0.05), bias: null },
  ], ["image"], ["logits"]);
}

/** [bytes, CRC-32 of the file] of encodeCompact(seededCompactGraph()) in float32 and float16, as Node writes them. */
export const SEEDED_FILES = { float32: [3731, 2718388214], float16: [2293, 1494051463] } as const;
