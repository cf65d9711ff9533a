// Dense (over the last axis) and inference BatchNorm. f64 accumulation, f32 storage.
import type { BatchNormNode, DenseNode } from "./types.ts";

/** x·kernel + bias for `vectors` input vectors of length `n` (the activation is applied by the caller). */
export function denseForward(node: DenseNode, x: Float32Array, vectors: number, n: number): Float32Array {
  const m = node.units, w = node.kernel, b = node.bias;
  const out = new Float32Array(vectors * m);
  const acc = new Float64Array(m);
  for (let p = 0; p < vectors; p++) {
    if (b) for (let j = 0; j < m; j++) acc[j] = b[j];
    else acc.fill(0);
    const xo = p * n;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      if (v === 0) continue; // relu outputs, pixels and pruned rows are mostly zeros
      const wo = i * m;
      for (let j = 0; j < m; j++) acc[j] += v * w[wo + j];
    }
    out.set(acc, p * m);
  }
  return out;
}

/** Per-channel scale gamma/√(var + ε) and shift beta − mean·scale, in f64. */
export function batchNormAffine(node: BatchNormNode): { scale: Float64Array; shift: Float64Array } {
  const c = node.mean.length;
  const scale = new Float64Array(c), shift = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    scale[k] = (node.gamma ? node.gamma[k] : 1) / Math.sqrt(node.variance[k] + node.epsilon);
    shift[k] = (node.beta ? node.beta[k] : 0) - node.mean[k] * scale[k];
  }
  return { scale, shift };
}

export function batchNormForward(node: BatchNormNode, x: Float32Array): Float32Array {
  const { scale, shift } = batchNormAffine(node);
  const c = scale.length;
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += c) {
    for (let k = 0; k < c; k++) out[o + k] = x[o + k] * scale[k] + shift[k];
  }
  return out;
}
