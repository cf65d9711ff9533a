// pruneDepthwiseConvLayer: a DepthwiseConv2D layer is one small conv problem per input channel
// (Cin = 1, Cout = the depth multiplier), each solved by pruneConvLayer on that channel's slices.
// The budget is split so the whole layer's is met: ε_c = ε·‖Y_c‖/‖Y‖ (or gain·‖Y_c‖), hence
// Σ ε_c² = ε². Every number reported is measured on the returned weights, channel by channel.
import { ValidationError } from "../errors.ts";
import { validateConvLayer } from "../validate-conv.ts";
import { pruneConvLayer, pruneConvLayerWith } from "./prune-conv-layer.ts";
import type { Backend } from "../wasm/loader.ts";
import type { ConvLayerOptions, Tensor } from "../conv-types.ts";
import type { LayerResult, SolveStatus } from "../types.ts";

export interface DepthwiseResult {
  /** The worst channel's status (numerical_error, infeasible, aborted, time_limit_reached, max_iter_reached, solved_inaccurate, solved). */
  status: SolveStatus;
  /** [kh, kw, C, multiplier] (TF.js DepthwiseConv2D layout), exactly sparse. */
  weights: Float32Array;
  /** [C·multiplier], output channel c·multiplier + q. */
  bias: Float32Array;
  /** ‖act(output) − Y‖_F of the returned weights over the whole layer, and relative to ‖Y‖_F. */
  outputError: number;
  relativeOutputError: number;
  /** Nonzeros kept (bias included). */
  nnz: number;
  /** Channel c's own result (its kernel [kh, kw, 1, multiplier], its info, its certificate). */
  channels: LayerResult[];
}

const STATUS_ORDER: SolveStatus[] = [
  "numerical_error", "infeasible", "aborted", "time_limit_reached", "max_iter_reached", "solved_inaccurate", "solved",
];

export function pruneDepthwiseConvLayer(input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<DepthwiseResult> {
  return solveDepthwise(input, output, options, (x, y, o) => pruneConvLayer(x, y, o));
}

/** pruneDepthwiseConvLayer on a given backend. */
export function pruneDepthwiseConvLayerWith(backend: Backend, input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<DepthwiseResult> {
  return solveDepthwise(input, output, options, (x, y, o) => pruneConvLayerWith(backend, x, y, o));
}

type Solve = (input: Tensor, output: Tensor, options: ConvLayerOptions) => Promise<LayerResult>;

async function solveDepthwise(input: Tensor, output: Tensor, options: ConvLayerOptions, solve: Solve): Promise<DepthwiseResult> {
  if (options?.warmStart !== undefined) {
    throw new ValidationError("options.warmStart", "no warm start for a depthwise layer (warm-start its channels with pruneConvLayer)", "a warm start");
  }
  // Checks the tensors and the geometry as a conv layer with Cout = C·multiplier.
  const v = validateConvLayer(input, output, options);
  const g = v.geometry;
  const C = g.inC, mult = g.outC / g.inC;
  if (!Number.isInteger(mult)) {
    throw new ValidationError("output.shape[3]", `a multiple of the input's ${C} channels (C·depth multiplier)`, g.outC);
  }
  const { epsilon, epsilonGain, upperBound, ...rest } = options;
  let normY = 0;
  for (const y of v.output) normY += y * y;
  normY = Math.sqrt(normY);

  const inPixels = g.samples * g.inH * g.inW, outPixels = g.samples * g.outH * g.outW;
  const taps = g.kh * g.kw;
  const weights = new Float32Array(taps * C * mult);
  const bias = new Float32Array(C * mult);
  const channels: LayerResult[] = [];
  let errorSquares = 0;
  for (let c = 0; c < C; c++) {
    const x = new Float32Array(inPixels);
    for (let i = 0; i < inPixels; i++) x[i] = v.input[i * C + c];
    const slice = (t: Float32Array) => {
      const out = new Float32Array(outPixels * mult);
      for (let i = 0; i < outPixels; i++) for (let q = 0; q < mult; q++) out[i * mult + q] = t[i * g.outC + c * mult + q];
      return out;
    };
    const y = slice(v.output);
    let normYc = 0;
    for (const value of y) normYc += value * value;
    normYc = Math.sqrt(normYc);
    const epsC = epsilon !== undefined ? (normY > 0 ? (epsilon * normYc) / normY : 0) : (epsilonGain ?? v.options.epsilonGain) * normYc;
    const outShape = [g.samples, g.outH, g.outW, mult];
    const r = await solve({ data: x, shape: [g.samples, g.inH, g.inW, 1] }, { data: y, shape: outShape }, {
      ...rest, epsilon: epsC, ...(v.upperBound ? { upperBound: { data: slice(v.upperBound), shape: outShape } } : {}),
    });
    channels.push(r);
    for (let k = 0; k < taps; k++) for (let q = 0; q < mult; q++) weights[(k * C + c) * mult + q] = r.weights[k * mult + q];
    for (let q = 0; q < mult; q++) bias[c * mult + q] = r.bias[q];
    errorSquares += r.info.outputError ** 2;
  }
  let nnz = 0;
  for (const w of weights) if (w !== 0) nnz++;
  for (const b of bias) if (b !== 0) nnz++;
  const outputError = Math.sqrt(errorSquares);
  return {
    status: STATUS_ORDER.find((s) => channels.some((r) => r.status === s)) ?? "solved",
    weights, bias, outputError, relativeOutputError: normY > 0 ? outputError / normY : 0, nnz, channels,
  };
}
