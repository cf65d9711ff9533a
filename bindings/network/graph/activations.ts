// The activations of the graph, applied in place over rows of the last axis (softmax needs rows).
import type { GraphActivation } from "./types.ts";

/** Applies `activation` to `data` in place; `width` is the size of the last axis (for softmax). */
export function applyActivation(data: Float32Array, width: number, activation: GraphActivation): void {
  const n = data.length;
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < n; i++) if (data[i] < 0) data[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < n; i++) data[i] = data[i] < 0 ? 0 : data[i] > 6 ? 6 : data[i];
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) data[i] = 1 / (1 + Math.exp(-data[i]));
      return;
    case "tanh":
      for (let i = 0; i < n; i++) data[i] = Math.tanh(data[i]);
      return;
    case "softmax": {
      const e = new Float64Array(width);
      for (let o = 0; o < n; o += width) {
        let max = -Infinity;
        for (let j = 0; j < width; j++) if (data[o + j] > max) max = data[o + j];
        let sum = 0;
        for (let j = 0; j < width; j++) sum += e[j] = Math.exp(data[o + j] - max);
        for (let j = 0; j < width; j++) data[o + j] = e[j] / sum;
      }
      return;
    }
  }
}
