// The WebAssembly engine of a Conv2D layer: the Dense engine's ADMM loop (admm.ts) with its two
// products swapped for the convolution and its adjoint (conv.ts). Setup copies the input tensor
// in once, accumulates the Gram A*A block by block, factors C̃ = A*A/c0² + I in f64 and inverts
// it once, exactly as the Dense engine does on the im2col unrolling it never builds.
import { OutOfMemoryError } from "../errors.ts";
import { C0_FACTOR } from "../defaults.ts";
import { layout, WASM_MAX_BYTES } from "./memory-plan.ts";
import { convBufferSizes } from "./conv-memory-plan.ts";
import { loopEngine } from "./engine.ts";
import type { Backend } from "./loader.ts";
import type { ConvGeometry } from "../solver/conv-geometry.ts";
import { FactorizationError, type AdmmEngine, type LayerProblem } from "../solver/engine.ts";

/** `problem.input` is the NHWC input tensor (not the unrolling); P, N, M are the unrolling's. */
export function createConvEngine(backend: Backend, problem: LayerProblem, g: ConvGeometry): AdmmEngine {
  const ex = backend.exports;
  const { P, M } = problem;
  const NB = problem.N + 1;
  const blockRows = ex.convBlockRows(NB);
  const plan = layout(ex.heapBase() >>> 0, convBufferSizes(g, problem.upperBound !== undefined, ex.gemmScratchBytes(), blockRows));
  const what = `a conv layer with input [${g.samples}, ${g.inH}, ${g.inW}, ${g.inC}], kernel [${g.kh}, ${g.kw}, ${g.inC}, ${g.outC}]` +
    ` and output [${g.samples}, ${g.outH}, ${g.outW}, ${g.outC}]`;
  if (plan.end > WASM_MAX_BYTES) throw new OutOfMemoryError(what, plan.end, WASM_MAX_BYTES);
  const memory = backend.memory;
  const needPages = Math.ceil(plan.end / 65536) - memory.buffer.byteLength / 65536;
  if (needPages > 0) {
    try {
      memory.grow(needPages);
    } catch {
      throw new OutOfMemoryError(`${what} (the runtime refused to grow memory)`, plan.end, memory.buffer.byteLength);
    }
  }
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
  ex.convConfigure(
    g.samples, g.inH, g.inW, g.inC, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padTop, g.padLeft,
    M, o.input, problem.fitBias ? u * s : 0, o.patch, o.patchT, o.scratch,
  );

  ex.convGram(o.gram);
  ex.gramPlusIdentity64(NB, o.gram, o.c64);
  const failed = ex.cholesky64(NB, o.c64);
  if (failed !== 0) throw new FactorizationError(`Cholesky factorisation of A*A/c0² + I failed at pivot ${failed - 1}`);
  ex.invertFromCholesky64(NB, o.c64, o.inv64);
  ex.f64ToF32(NB * NB, o.inv64, o.cinv);

  // Product mode 2: the loop's Xt·W and X·B are convForward and convAdjoint.
  ex.admmConfigure(
    P, NB, M, problem.linear ? 1 : 0, problem.upperBound ? 1 : 0, 2,
    0, 0, 0, 0, 0, 0, 0, 0,
    o.cinv, o.y, o.v, o.mask, o.u1, o.b, o.z, o.zNext, o.w3, o.w3Next, o.w2, o.u2, o.e, o.d, o.scratch, 0,
  );
  return loopEngine(backend, problem, o, c0);
}
