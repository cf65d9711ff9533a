// Wanda (Sun, Liu, Bair, Kolter 2023, "A Simple and Effective Pruning Approach for Large Language
// Models"): weight i→j scores |W_ij|·‖x_i‖₂, the norm of input i over the calibration samples;
// each output neuron keeps the same share of its highest-scoring weights; no weight is updated.
// As in the authors' code, layers are pruned in order and each layer's input norms are taken on
// the already-pruned network's signals. The bias is the weight of a constant input 1 (norm √P),
// ranked with the neuron's other weights, so that the counts are kernel and bias together.
import { applyLayer } from "../forward.ts";
import type { DenseLayerSpec, DenseNetwork } from "../network.ts";
import { checkBaselineArguments, type BaselinePruner } from "./baseline.ts";

/** Euclidean norm of every input column of x [rows, cols], in f64. */
function inputNorms(x: Float32Array, rows: number, cols: number): Float64Array {
  const sums = new Float64Array(cols);
  for (let p = 0; p < rows; p++) {
    const o = p * cols;
    for (let i = 0; i < cols; i++) sums[i] += x[o + i] * x[o + i];
  }
  return sums.map(Math.sqrt);
}

/**
 * The Wanda mask of one layer with `keep` parameters: one array of kept input indices per output
 * neuron (index `inputs` is the bias). Every neuron keeps ⌊keep/units⌋; the remainder goes to
 * the neurons whose next-best score is highest. Ties go to the lower index, so the mask is
 * deterministic.
 */
function wandaMask(layer: DenseLayerSpec, norms: Float64Array, biasNorm: number, keep: number): number[][] {
  const N = layer.inputs, M = layer.units;
  const n = N + (layer.useBias ? 1 : 0);
  const ranked: { order: number[]; score: Float64Array }[] = [];
  for (let o = 0; o < M; o++) {
    const score = new Float64Array(n);
    for (let i = 0; i < N; i++) score[i] = Math.abs(layer.kernel[i * M + o]) * norms[i];
    if (layer.useBias) score[N] = Math.abs(layer.bias[o]) * biasNorm;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
    ranked.push({ order, score });
  }
  const base = Math.floor(keep / M);
  const extra = keep - base * M;
  const nextBest = (o: number) => ranked[o].score[ranked[o].order[base]];
  const favoured = new Set(Array.from({ length: M }, (_, o) => o).sort((a, b) => nextBest(b) - nextBest(a) || a - b).slice(0, extra));
  return ranked.map((r, o) => r.order.slice(0, base + (favoured.has(o) ? 1 : 0)));
}

/** Wanda at exactly `perLayerNonzeros[i]` kept parameters (kernel and bias) in layer i. */
export const wandaPrune: BaselinePruner = (network, calibration, perLayerNonzeros) => {
  const x0 = checkBaselineArguments(network, calibration, perLayerNonzeros);
  const P = x0.rows;
  let x = x0.data;
  const layers: DenseLayerSpec[] = [];
  for (const [li, layer] of network.layers.entries()) {
    const mask = wandaMask(layer, inputNorms(x, P, layer.inputs), Math.sqrt(P), perLayerNonzeros[li]);
    const M = layer.units;
    const kernel = new Float32Array(layer.kernel.length);
    const bias = new Float32Array(M);
    mask.forEach((kept, o) => {
      for (const i of kept) {
        if (i < layer.inputs) kernel[i * M + o] = layer.kernel[i * M + o];
        else bias[o] = layer.bias[o];
      }
    });
    const pruned = { ...layer, kernel, bias };
    layers.push(pruned);
    if (li + 1 < network.layers.length) x = applyLayer(pruned, x, P, layer.activation === "relu");
  }
  return { ...network, layers } satisfies DenseNetwork;
};
