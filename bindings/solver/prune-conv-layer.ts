// pruneConvLayer: Net-Trim on a Conv2D layer. The program is exactly the Dense program on the
// layer's im2col unrolling (P = samples·outH·outW rows, N = kh·kw·inC, M = outC), solved in
// operator form: the same controller, status, certificate and returned-weights info as
// pruneLayer, with the products computed as the convolution and its adjoint.
import { createConvEngine } from "../wasm/conv-engine.ts";
import { getBackend, type Backend } from "../wasm/loader.ts";
import { validateConvLayer } from "../validate-conv.ts";
import { convBiasUnit } from "./conv-geometry.ts";
import { convWUpdateThatFits } from "./memory-check.ts";
import { openPreparedSession, outputStatistics, solveQueued, type LayerSession, type Prepared } from "./prune-layer.ts";
import type { ConvGeometry } from "./conv-geometry.ts";
import type { AdmmEngine, LayerProblem } from "./engine.ts";
import type { WUpdate } from "../wasm/conv-memory-plan.ts";
import type { ConvLayerOptions, Tensor } from "../conv-types.ts";
import type { LayerResult } from "../types.ts";

/** Makes a conv layer's engine: its problem (P, N, M of the unrolling), geometry and W-update. */
type ConvEngineFactory = (problem: LayerProblem, geometry: ConvGeometry, wUpdate: WUpdate) => Promise<AdmmEngine>;

const ONE_INSTANCE = "only pruneConvLayer runs a conv layer on several threads (not pruneConvLayerWith or a pool job)";

/**
 * Prunes one Conv2D layer. `input` is [samples, H, W, inC] (NHWC), `output` the layer's
 * [samples, outH, outW, outC] (before the ReLU's zeros matter: Ω = where it is positive). The
 * result's `weights` are the kernel in TF.js layout [kh, kw, inC, outC], `bias` is [outC]; the
 * bias is pruned like a weight (as pruneLayer does).
 */
export async function pruneConvLayer(input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<LayerResult> {
  return solveConvLayer(input, output, options, oneThread(getBackend));
}

/** pruneConvLayer on a given backend (e.g. the scalar build). */
export async function pruneConvLayerWith(backend: Backend, input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<LayerResult> {
  return solveConvLayer(input, output, options, oneThread(async () => backend));
}

/** The single-thread engine on a backend; `reason` says why fewer threads ran than asked for. */
export function oneThread(backendOf: () => Promise<Backend>, reason = ONE_INSTANCE): ConvEngineFactory {
  return async (problem, g, wUpdate) => ({ ...createConvEngine(await backendOf(), problem, g, wUpdate), threadsReason: reason });
}

/** Validates, then solves on the engine `makeEngine` makes (threadsReason is dropped when one thread was asked for). */
export function solveConvLayer(input: unknown, output: unknown, options: unknown, makeEngine: ConvEngineFactory): Promise<LayerResult> {
  // Validate synchronously, before queueing, so errors come at once and nothing runs.
  const { prepared, options: o, geometry: g, wUpdate } = prepareConvLayer(input, output, options);
  const askedForThreads = o.threads === "auto" || o.threads > 1;
  return solveQueued(prepared, o, async (problem) => {
    const engine = await makeEngine(problem, g, wUpdate);
    if (askedForThreads || engine.threadsReason === undefined) return engine;
    const { threadsReason: _r, ...rest } = engine;
    return rest;
  });
}

/**
 * A conv layer kept set up between solves (pruneNetwork's density search does the same for Dense
 * layers, openLayerSession): the geometry, kind, fitBias, upperBound, activeThreshold, reweight and
 * wUpdate are fixed by `options`; each solve takes the rest (budget, tolerances, warm start). One thread.
 */
export async function openConvSession(input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<LayerSession> {
  const { prepared, geometry, wUpdate } = prepareConvLayer(input, output, options);
  const { kernelSize: _k, strides: _s, padding: _p, dilation: _d, wUpdate: _w, upperBound: _u, ...layer } = options;
  const engine = oneThread(getBackend, "a session solves on one thread");
  return openPreparedSession(prepared, { ...layer, sparseInput: false }, (problem) => engine(problem, geometry, wUpdate));
}

/** The validated conv problem as the Dense controller takes it, its resolved options, geometry and W-update. */
function prepareConvLayer(input: unknown, output: unknown, options: unknown) {
  const v = validateConvLayer(input, output, options);
  const g = v.geometry;
  const o = v.options;
  const what = `a conv layer with input [${g.samples}, ${g.inH}, ${g.inW}, ${g.inC}] and output [${g.samples}, ${g.outH}, ${g.outW}, ${g.outC}]`;
  const wUpdate = convWUpdateThatFits(what, g, v.upperBound !== undefined, v.wUpdate);
  const linear = o.kind === "linear";
  let zeros = 0;
  for (let i = 0; i < v.input.length; i++) if (v.input[i] === 0) zeros++;
  const prepared: Prepared = {
    problem: {
      P: g.samples * g.outH * g.outW, N: g.kh * g.kw * g.inC, M: g.outC,
      input: v.input, output: v.output, upperBound: v.upperBound, linear,
      activeThreshold: o.activeThreshold, sparse: false, fitBias: o.fitBias,
      biasUnit: convBiasUnit(v.input, g),
      designNonzeros: 0, // no CSR copies in operator form
      form: "samples",
      l1Weighted: o.reweight !== undefined,
      wUpdate,
    },
    ...outputStatistics(v.output, v.upperBound, linear, o.activeThreshold),
    zeroFraction: v.input.length > 0 ? zeros / v.input.length : 0,
  };
  return { prepared, options: o, geometry: g, wUpdate };
}
