// The WebAssembly engine of a Conv2D layer: the Dense engine's ADMM loop (admm.ts) with its two
// products swapped for the convolution and its adjoint (conv.ts). Setup copies the input tensor
// in once, accumulates the Gram A*A block by block, factors C̃ = A*A/c0² + I in f64 and inverts
// it once, exactly as the Dense engine does on the im2col unrolling it never builds. Or, with
// wUpdate "cg", no N̄×N̄ matrix at all: each W-update is conjugate gradient on A*A + I (cg.ts),
// warm-started from W3, to a relative tolerance tied to the ADMM's primal residual (cg-update.ts).
import { C0_FACTOR } from "../defaults.ts";
import { growMemoryFor, layout } from "./memory-plan.ts";
import { convBufferSizes, type WUpdate } from "./conv-memory-plan.ts";
import { loopEngine } from "./engine.ts";
import { withCgUpdate } from "./cg-update.ts";
import type { Backend } from "./loader.ts";
import type { ConvGeometry } from "../solver/conv-geometry.ts";
import { FactorizationError, type AdmmEngine, type LayerProblem } from "../solver/engine.ts";

/** `problem.input` is the NHWC input tensor (not the unrolling); P, N, M are the unrolling's. */
export function createConvEngine(backend: Backend, problem: LayerProblem, g: ConvGeometry, wUpdate: WUpdate = "factored"): AdmmEngine {
  return setUpConvEngine(backend, problem, g, wUpdate).engine;
}

/** A conv engine set up, with where its buffers are and the arguments it gave admmConfigure and convConfigure. */
interface ConvEngineSetup {
  engine: AdmmEngine;
  offsets: Record<string, number>;
  configure: number[];
  /** convConfigure's arguments; a thread of a threaded solve swaps in its own patch, patchT and scratch (the last three). */
  convConfigure: number[];
}

/**
 * Sets up a conv engine; `extraBuffers` (name → bytes) are laid out after the solve's own (a
 * threaded engine's control block and per-thread buffers).
 */
export function setUpConvEngine(
  backend: Backend, problem: LayerProblem, g: ConvGeometry, wUpdate: WUpdate, extraBuffers: Record<string, number> = {},
): ConvEngineSetup {
  const ex = backend.exports;
  const { P, M } = problem;
  const NB = problem.N + 1;
  const blockRows = ex.convBlockRows(NB);
  const sizes = convBufferSizes(g, problem.upperBound !== undefined, ex.gemmScratchBytes(), blockRows, wUpdate, ex.admmSumsBytes(P, NB), problem.l1Weighted);
  const plan = layout(ex.heapBase() >>> 0, { ...sizes, ...extraBuffers });
  const what = `a conv layer with input [${g.samples}, ${g.inH}, ${g.inW}, ${g.inC}], kernel [${g.kh}, ${g.kw}, ${g.inC}, ${g.outC}]` +
    ` and output [${g.samples}, ${g.outH}, ${g.outW}, ${g.outC}]`;
  const memory = backend.memory;
  growMemoryFor(memory, plan.end, what);
  const o = plan.offsets;
  const f32 = (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n);
  const inputLength = g.samples * g.inH * g.inW * g.inC;
  f32(o.input, inputLength).set(problem.input);
  f32(o.y, P * M).set(problem.output);
  if (problem.upperBound) f32(o.v, P * M).set(problem.upperBound);

  // c0 as the Dense engine takes it on the unrolling: its largest column's sum of squares is
  // P·biasUnit² (the bias column's too), unless there is no input and no bias.
  const u = problem.biasUnit;
  let inputsAllZero = true;
  for (let i = 0; i < inputLength && inputsAllZero; i++) inputsAllZero = problem.input[i] === 0;
  const maxDiag = inputsAllZero && !problem.fitBias ? 0 : P * u * u;
  const c0 = maxDiag > 0 ? C0_FACTOR * Math.sqrt(maxDiag) : 1;
  const s = 1 / c0;
  ex.scale(inputLength, s, o.input);
  ex.buildMask(P * M, o.y, problem.activeThreshold, o.mask);
  ex.scale(P * M, s, o.y);
  if (problem.upperBound) ex.scale(P * M, s, o.v);
  const convConfigure = [
    g.samples, g.inH, g.inW, g.inC, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padTop, g.padLeft,
    M, o.input, problem.fitBias ? u * s : 0, o.patch, o.patchT, o.scratch,
  ];
  ex.convConfigure(...convConfigure);

  if (wUpdate === "factored") {
    ex.convGram(o.gram);
    ex.gramPlusIdentity64(NB, o.gram, o.c64);
    const failed = ex.cholesky64(NB, o.c64);
    if (failed !== 0) throw new FactorizationError(`Cholesky factorisation of A*A/c0² + I failed at pivot ${failed - 1}`);
    ex.invertFromCholesky64(NB, o.c64, o.inv64);
    ex.f64ToF32(NB * NB, o.inv64, o.cinv);
  }

  // Product mode 2: the loop's Xt·W and X·B are convForward and convAdjoint.
  const configure = [
    P, NB, M, problem.linear ? 1 : 0, problem.upperBound ? 1 : 0, 2,
    0, 0, 0, 0, 0, 0, 0, 0,
    o.cinv, o.y, o.v, o.mask, o.u1, o.b, o.z, o.zNext, o.w3, o.w3Next, o.w2, o.u2, o.e, o.d, o.scratch, 0, o.sums,
    problem.l1Weighted ? o.l1Weights : 0, // the ℓ1 weights of reweighting (the Dense engine's too)
    0, // never the Woodbury form: a conv layer has far more rows P than N̄
  ];
  if (problem.l1Weighted) f32(o.l1Weights, NB * M).fill(1);
  ex.admmConfigure(...configure);
  const engine = loopEngine(backend, problem, o, c0);
  return { engine: wUpdate === "cg" ? withCgUpdate(backend, engine, P, NB, M, o) : engine, offsets: o, configure, convConfigure };
}
