// The refit on the support (issue 11): after Net-Trim has chosen which weights to keep, the ℓ1
// objective has also shrunk the kept ones toward zero. The refit keeps every zero a zero and
// spends the budget on accuracy instead: layer by layer, in order, each output neuron's kept
// weights (and its bias, when kept) are refitted by least squares
//   min ‖X̂_S w + b − z‖² + δ‖(w, b)‖²,  δ = λ·mean diag of the normal matrix (stability only),
// in f64, with X̂ the input the pruned network (its layers before this one already refitted)
// gives the layer, and z the ORIGINAL layer's pre-activation output on the ORIGINAL network's
// signals. That target (not SparseGPT's W·X̂, the original weights on the pruned input) asks each
// layer to give back the trained network's signal itself, so a layer also corrects the drift the
// layers before it left; on the last layer it is the least-squares fit of the original logits.
import { gramF64 } from "./gram-f64.ts";
import { applyLayer, distance, frobenius } from "./forward.ts";
import { refitUnits, REFIT_DAMPENING, REFIT_ROUNDS, type RefitDesign, type RefitUnit } from "./refit-units.ts";
import type { DenseLayerSpec } from "./network.ts";
import type { LayerRefit } from "./types.ts";

export { REFIT_DAMPENING, REFIT_ROUNDS };

/**
 * A Dense layer's design: X̄ = [x | 1] ([P, N + 1], the bias's column N), its Gram in f64 with
 * the zero inputs skipped; a unit's rows X̄_S gathered once into one block (P·k values, reused
 * across the units: a 1×1 conv on a 1×1 image needs no patches).
 */
function denseDesign(layer: DenseLayerSpec, x: Float32Array, P: number): RefitDesign {
  const N = layer.inputs, M = layer.units;
  const units: RefitUnit[] = [];
  let widest = 0;
  for (let o = 0; o < M; o++) {
    const kept: number[] = [];
    for (let i = 0; i < N; i++) if (layer.kernel[i * M + o] !== 0) kept.push(i);
    if (layer.bias[o] !== 0) kept.push(N);
    const columns = Int32Array.from(kept);
    units.push({ columns, channel: o, own: Float64Array.from(columns, (i) => (i === N ? layer.bias[o] : layer.kernel[i * M + o])) });
    widest = Math.max(widest, columns.length);
  }
  let buffer = new Float64Array(0);
  const rowsOf = ({ columns }: RefitUnit) => {
    const k = columns.length, inputs = columns[k - 1] === N ? k - 1 : k;
    if (buffer.length === 0) buffer = new Float64Array(P * widest);
    const block = buffer.subarray(0, P * k);
    for (let p = 0; p < P; p++) {
      const xo = p * N, ro = p * k;
      for (let s = 0; s < inputs; s++) block[ro + s] = x[xo + columns[s]];
      if (inputs < k) block[ro + k - 1] = 1;
    }
    return (visit: (block: Float64Array, first: number, count: number) => void) => visit(block, 0, P);
  };
  return { rows: P, gram: gramF64(x, P, N, true), n: N + 1, units, rowsOf };
}

/**
 * The refit of one layer on input `x` ([P, inputs]) toward the pre-activation target `z`
 * ([P, units]): per output neuron, the least-squares weights over its nonzero kernel entries and
 * its bias when nonzero (ridge δ = λ·mean diagonal); every other entry stays exactly zero. f64.
 * `relu`: the layer is followed by relu, so where z ≤ 0 (Ω^c) any pre-activation ≤ 0 gives the
 * same output; the targets there are free (refitUnits, refit-units.ts).
 */
export function refitLayer(layer: DenseLayerSpec, x: Float32Array, P: number, z: Float32Array, relu: boolean, rounds = REFIT_ROUNDS, lambda = REFIT_DAMPENING): { kernel: Float64Array; bias: Float64Array } {
  const N = layer.inputs, M = layer.units;
  const design = denseDesign(layer, x, P);
  const solved = refitUnits(design, z, M, relu, rounds, lambda);
  const kernel = new Float64Array(N * M);
  const bias = new Float64Array(M);
  design.units.forEach(({ columns }, o) => {
    const w = solved[o];
    if (!w) return;
    columns.forEach((i, s) => {
      if (i === N) bias[o] = w[s];
      else kernel[i * M + o] = w[s];
    });
  });
  return { kernel, bias };
}

/**
 * The refit pass over a pruned chain of Dense layers, in order (see the top of this file).
 * `relu[i]`: whether layer i is followed by relu. Returns the refitted layers (f32, the same
 * zeros or more: an input that is zero on every sample gets a zero weight) and, per layer, the
 * relative error of the refitted and of the un-refitted layer on the refit's input.
 */
export function refitNetwork(original: DenseLayerSpec[], pruned: DenseLayerSpec[], input: Float32Array, P: number, relu: boolean[]): { layers: DenseLayerSpec[]; reports: LayerRefit[] } {
  const layers: DenseLayerSpec[] = [];
  const reports: LayerRefit[] = [];
  let xOrig = input, xHat = input;
  original.forEach((l, i) => {
    const started = performance.now();
    const z = applyLayer(l, xOrig, P, false);
    const w = refitLayer(pruned[i], xHat, P, z, relu[i]);
    const spec: DenseLayerSpec = { ...pruned[i], kernel: Float32Array.from(w.kernel), bias: Float32Array.from(w.bias) };
    const target = relu[i] ? z.map((v) => (v < 0 ? 0 : v)) : z;
    const out = applyLayer(spec, xHat, P, relu[i]);
    const scale = frobenius(target) || 1;
    reports.push({
      relativeError: distance(out, target) / scale,
      unrefittedRelativeError: distance(applyLayer(pruned[i], xHat, P, relu[i]), target) / scale,
      timeMs: performance.now() - started,
    });
    layers.push(spec);
    xHat = out;
    xOrig = target;
  });
  return { layers, reports };
}
