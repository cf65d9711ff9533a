// The paper's baseline: magnitude pruning ("hard thresholding") at given per-layer nonzero counts.
import { ValidationError } from "../errors.ts";
import type { DenseNetwork } from "./network.ts";

/**
 * Keeps the `keep[i]` largest-magnitude parameters (kernel and bias together) of layer i and
 * zeroes the rest; ties are broken by position, so the count is exact. Returns a new network.
 */
export function magnitudePrune(network: DenseNetwork, keep: number[]): DenseNetwork {
  if (keep.length !== network.layers.length) {
    throw new ValidationError("keep", `one count per layer (${network.layers.length})`, keep);
  }
  const layers = network.layers.map((l, i) => {
    const k = keep[i];
    const n = l.kernel.length + (l.useBias ? l.bias.length : 0);
    if (!Number.isInteger(k) || k < 0 || k > n) throw new ValidationError(`keep[${i}]`, `an integer in [0, ${n}]`, k);
    const value = (j: number) => (j < l.kernel.length ? l.kernel[j] : l.bias[j - l.kernel.length]);
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => Math.abs(value(b)) - Math.abs(value(a)) || a - b);
    const kernel = new Float32Array(l.kernel.length);
    const bias = new Float32Array(l.bias.length);
    for (const j of order.slice(0, k)) {
      if (j < kernel.length) kernel[j] = l.kernel[j];
      else bias[j - kernel.length] = l.bias[j - kernel.length];
    }
    return { ...l, kernel, bias };
  });
  return { ...network, layers };
}
