// The WebAssembly engine: lays out one solve's buffers in the module's memory, copies the data
// in once, builds Xt, X (and their CSR forms), C̃⁻¹, then iterates entirely inside wasm.
import { OutOfMemoryError } from "../errors.ts";
import { C0_FACTOR } from "../defaults.ts";
import type { Backend } from "./loader.ts";
import { neuronDualTerms, perNeuronDualBound } from "../solver/dual-bound.ts";
import { FactorizationError, type AdmmEngine, type IterationStats, type LayerProblem, type OutputMeasure } from "../solver/engine.ts";

/** WebAssembly memory can address at most 4 GiB (65536 pages of 64 KiB). */
export const WASM_MAX_BYTES = 65536 * 65536;
const ALIGN = 64;

interface Plan {
  offsets: Record<string, number>;
  end: number;
}

function align(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}

/** Byte sizes of every buffer a solve needs. `nnz` is the nonzero count of Xt (bias column included). */
export function bufferSizes(problem: LayerProblem, gemmScratch: number, spmmScratch: number): Record<string, number> {
  const { P, N, M } = problem;
  const NB = N + 1;
  const nnz = problem.designNonzeros;
  const out = P * M * 4;
  const w = NB * M * 4;
  const sizes: Record<string, number> = {
    input: P * N * 4, xt: P * NB * 4, x: P * NB * 4,
    gram: NB * NB * 4, c64: NB * NB * 8, inv64: NB * NB * 8, cinv: NB * NB * 4,
    y: out, v: problem.upperBound ? out : 0, mask: P * M,
    u1: out, b: out, z: out, zNext: out,
    w3: w, w3Next: w, w2: w, u2: w, e: w, d: w,
    scratch: gemmScratch, colWork: Math.max(N, 1) * 8,
  };
  if (problem.sparse) {
    Object.assign(sizes, {
      xtRow: (P + 1) * 4, xtCol: nnz * 4, xtVal: nnz * 4,
      xRow: (NB + 1) * 4, xCol: nnz * 4, xVal: nnz * 4, spmmScratch,
    });
  }
  return sizes;
}

function layout(base: number, sizes: Record<string, number>): Plan {
  const offsets: Record<string, number> = {};
  let at = align(base);
  for (const [name, size] of Object.entries(sizes)) {
    offsets[name] = at;
    at = align(at + Math.max(size, 0));
  }
  return { offsets, end: at };
}

export function createWasmEngine(backend: Backend, problem: LayerProblem): AdmmEngine {
  const ex = backend.exports;
  const { P, N, M } = problem;
  const NB = N + 1;
  const plan = layout(ex.heapBase(), bufferSizes(problem, ex.gemmScratchBytes(), ex.spmmScratchBytes(Math.max(problem.P, problem.N + 1))));
  if (plan.end > WASM_MAX_BYTES) {
    throw new OutOfMemoryError(`a layer with ${P} samples, ${N} inputs and ${M} outputs`, plan.end, WASM_MAX_BYTES);
  }
  const memory = backend.memory;
  const needPages = Math.ceil(plan.end / 65536) - memory.buffer.byteLength / 65536;
  if (needPages > 0) {
    try {
      memory.grow(needPages);
    } catch {
      throw new OutOfMemoryError(`a layer with ${P} samples, ${N} inputs and ${M} outputs (the runtime refused to grow memory)`, plan.end, memory.buffer.byteLength);
    }
  }
  const o = plan.offsets;
  const f32 = (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n);

  // Copy in once.
  f32(o.input, P * N).set(problem.input);
  f32(o.y, P * M).set(problem.output);
  if (problem.upperBound) f32(o.v, P * M).set(problem.upperBound);

  // Scale: c0 = 0.3·sqrt(max diag XXᵀ); the bias row has diag P (all zeros without a bias).
  const maxDiag = Math.max(problem.fitBias ? P : 0, ex.maxColumnSumSquares(P, N, o.input, o.colWork));
  const c0 = maxDiag > 0 ? C0_FACTOR * Math.sqrt(maxDiag) : 1;
  const s = 1 / c0;
  ex.buildDesign(P, N, o.input, s, problem.fitBias ? s : 0, o.xt);
  ex.transpose(P, NB, o.xt, NB, o.x, P);
  ex.buildMask(P * M, o.y, problem.activeThreshold, o.mask);
  ex.scale(P * M, s, o.y);
  if (problem.upperBound) ex.scale(P * M, s, o.v);
  if (problem.sparse) {
    ex.csrFromDense(P, NB, o.xt, NB, o.xtRow, o.xtCol, o.xtVal);
    ex.csrFromDense(NB, P, o.x, P, o.xRow, o.xCol, o.xVal);
  }

  // C̃ = X·Xᵀ + I (scaled), factored in f64, inverted once.
  ex.gemm(NB, NB, P, o.x, P, o.xt, NB, o.gram, NB, 0, o.scratch);
  ex.gramPlusIdentity64(NB, o.gram, o.c64);
  const failed = ex.cholesky64(NB, o.c64);
  if (failed !== 0) throw new FactorizationError(`Cholesky factorisation of XXᵀ/c0² + I failed at pivot ${failed - 1}`);
  ex.invertFromCholesky64(NB, o.c64, o.inv64);
  ex.f64ToF32(NB * NB, o.inv64, o.cinv);

  ex.admmConfigure(
    P, NB, M, problem.linear ? 1 : 0, problem.upperBound ? 1 : 0, problem.sparse ? 1 : 0,
    o.xt, o.x, o.xtRow ?? 0, o.xtCol ?? 0, o.xtVal ?? 0, o.xRow ?? 0, o.xCol ?? 0, o.xVal ?? 0,
    o.cinv, o.y, o.v, o.mask, o.u1, o.b, o.z, o.zNext, o.w3, o.w3Next, o.w2, o.u2, o.e, o.d, o.scratch, o.spmmScratch ?? 0,
  );

  const linear = problem.linear ? 1 : 0;
  const hasV = problem.upperBound ? 1 : 0;
  let epsScaled = 0;

  const engine: AdmmEngine = {
    simd: backend.simd,
    scale: c0,
    start(epsilon, rho, alpha, weights, u1, u2) {
      epsScaled = epsilon * s;
      // Pointers swap between iterations: read the current ones.
      const w3 = f32(ex.admmPointer(1), NB * M);
      if (weights) w3.set(weights);
      else w3.fill(0);
      const u1v = f32(ex.admmPointer(3), P * M);
      if (u1) u1v.set(u1);
      else u1v.fill(0);
      const u2v = f32(ex.admmPointer(4), NB * M);
      if (u2) u2v.set(u2);
      else u2v.fill(0);
      f32(ex.admmPointer(0), NB * M).fill(0);
      ex.admmStart(epsScaled, rho, alpha);
    },
    iterate(count, stats) {
      ex.admmIterate(count, stats ? 1 : 0);
    },
    stats(): IterationStats {
      const g = (k: number) => ex.admmStat(k);
      return { r1: g(0), r2: g(1), s1: g(2), s2: g(3), w1: g(4), w2: g(5), z: g(6), w3: g(7), u1: g(8), u2: g(9) };
    },
    setRho(rho) {
      ex.admmSetRho(rho);
    },
    measureW2(): OutputMeasure {
      const z = ex.admmPointer(5);
      ex.productXtW(ex.admmPointer(0), z);
      ex.measureOutput(P * M, linear, hasV, z, o.y, o.v, o.mask);
      return {
        fitError: Math.sqrt(ex.measured(0)) * c0,
        outputError: Math.sqrt(ex.measured(1)) * c0,
        leakage: ex.measured(2) * c0,
      };
    },
    leastSquaresRms() {
      ex.productXB(o.y, o.d);
      ex.gemm(NB, M, NB, o.cinv, NB, o.d, M, o.e, M, 0, o.scratch);
      const n = NB * M;
      return n > 0 ? Math.sqrt(ex.sumSquares64(n, o.e) / n) : 0;
    },
    dualBound(epsilon) {
      const lam = ex.admmPointer(5);
      ex.dualMultiplier(P * M, linear, ex.admmPointer(3), o.mask, lam);
      ex.productXB(lam, o.d);
      const mask = new Uint8Array(memory.buffer, o.mask, P * M);
      const terms = neuronDualTerms(f32(lam, P * M), f32(o.y, P * M), problem.upperBound ? f32(o.v, P * M) : undefined,
        problem.linear ? undefined : mask, f32(o.d, NB * M), P, NB, M);
      return perNeuronDualBound(terms.a, terms.b, terms.c, epsilon * s);
    },
    readW2() {
      return f32(ex.admmPointer(0), NB * M).slice();
    },
    readDual() {
      return { u1: f32(ex.admmPointer(3), P * M).slice(), u2: f32(ex.admmPointer(4), NB * M).slice() };
    },
    dispose() {},
  };
  return engine;
}

/**
 * Upper estimate of the wasm memory one layer solve needs, without a backend at hand (for
 * checking a whole network before any work): dense products assumed (the CSR copies are then
 * absent but the dense ones are always there), fixed scratch sizes of the kernels, 1 MiB for the
 * module's own data.
 */
export function estimateLayerBytes(P: number, N: number, M: number, hasUpperBound: boolean): number {
  const problem = {
    P, N, M, upperBound: hasUpperBound ? new Float32Array(0) : undefined, sparse: true, designNonzeros: P * (N + 1),
  } as unknown as LayerProblem;
  const gemmScratch = 2 * 1024 * 1024;
  const sizes = bufferSizes(problem, gemmScratch, Math.max(P, N + 1) * 96);
  return layout(1024 * 1024, sizes).end;
}
