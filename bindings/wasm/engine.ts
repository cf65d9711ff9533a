// The WebAssembly engine: lays out one solve's buffers in the module's memory, copies the data
// in once, builds Xt, X (and their CSR forms), C̃⁻¹ (K = (I + XᵀX)⁻¹ in the Woodbury form, none for the CG
// update), then iterates entirely inside wasm.
import { bufferSizes, growMemoryFor, inputOverlay, layout } from "./memory-plan.ts";
import { withCgUpdate } from "./cg-update.ts";
import { C0_FACTOR } from "../defaults.ts";
import type { Backend } from "./loader.ts";
import { neuronDualTerms, perNeuronDualBound } from "../solver/dual-bound.ts";
import { FactorizationError, type AdmmEngine, type IterationStats, type LayerProblem, type OutputMeasure } from "../solver/engine.ts";

export function createWasmEngine(backend: Backend, problem: LayerProblem): AdmmEngine {
  return setUpWasmEngine(backend, problem).engine;
}

/** An engine set up, with where its buffers are and the arguments it gave admmConfigure (a threaded engine's workers repeat them). */
interface WasmEngineSetup {
  engine: AdmmEngine;
  offsets: Record<string, number>;
  configure: number[];
}

/** Sets up an engine; `extraBuffers` (name → bytes) are laid out after the solve's own (a threaded engine's control block and scratch). */
export function setUpWasmEngine(backend: Backend, problem: LayerProblem, extraBuffers: Record<string, number> = {}): WasmEngineSetup {
  const ex = backend.exports;
  const { P, N, M } = problem;
  const NB = N + 1;
  const sizes = bufferSizes(problem, ex.gemmScratchBytes(), ex.spmmScratchBytes(Math.max(P, N + 1)), ex.admmSumsBytes(P, N + 1));
  const plan = layout(ex.heapBase() >>> 0, { ...sizes, ...extraBuffers }, inputOverlay(problem));
  const memory = backend.memory;
  growMemoryFor(memory, plan.end, `a layer with ${P} samples, ${N} inputs and ${M} outputs`);
  const o = plan.offsets;
  const f32 = (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n);

  // Copy in once.
  f32(o.input, P * N).set(problem.input);
  f32(o.y, P * M).set(problem.output);
  if (problem.upperBound) f32(o.v, P * M).set(problem.upperBound);

  // Scale: c0 = 0.3·sqrt(max diag XXᵀ). biasUnit is the largest RMS input column, so the largest
  // feature diagonal is P·biasUnit², and so is the bias row's (biasUnit = 1 when every input is 0).
  const u = problem.biasUnit;
  const inputsAllZero = problem.designNonzeros === (problem.fitBias ? P : 0);
  const maxDiag = inputsAllZero && !problem.fitBias ? 0 : P * u * u;
  const c0 = maxDiag > 0 ? C0_FACTOR * Math.sqrt(maxDiag) : 1;
  const s = 1 / c0;
  // The input is dead once Xt is built: X or the CSR copies overwrite it (inputOverlay).
  ex.buildDesign(P, N, o.input, s, problem.fitBias ? u * s : 0, o.xt);
  ex.buildMask(P * M, o.y, problem.activeThreshold, o.mask);
  ex.scale(P * M, s, o.y);
  if (problem.upperBound) ex.scale(P * M, s, o.v);
  if (problem.sparse) {
    ex.csrFromDense(P, NB, o.xt, NB, o.xtRow, o.xtCol, o.xtVal);
    ex.csrFromDenseTransposed(P, NB, o.xt, NB, o.xRow, o.xCol, o.xVal);
  }
  const woodbury = problem.wUpdate === "woodbury";
  if (!problem.sparse || woodbury) ex.transpose(P, NB, o.xt, NB, o.x, P);

  // C̃ = X·Xᵀ + I (scaled), or in the Woodbury form Xt·X + I (P×P), factored in f64, inverted
  // once (not formed at all for the CG update). The Gram matrix skips the input's zeros when the
  // products do (2–3× on ReLU or pixel inputs), and then only its lower triangle is formed: all
  // the factorisation reads.
  if (problem.wUpdate !== "cg") {
    const n = woodbury ? P : NB;
    if (woodbury) {
      if (problem.sparse) ex.gramLowerPacked(P, NB, o.xtRow, o.xtCol, o.xtVal, o.x, P, o.gram, P, o.spmmScratch);
      else ex.gemm(P, P, NB, o.xt, NB, o.x, P, o.gram, P, 0, o.scratch);
    } else if (problem.sparse) ex.gramLowerPacked(NB, P, o.xRow, o.xCol, o.xVal, o.xt, NB, o.gram, NB, o.spmmScratch);
    else ex.gemm(NB, NB, P, o.x, P, o.xt, NB, o.gram, NB, 0, o.scratch);
    ex.gramPlusIdentity64(n, o.gram, o.c64);
    const failed = ex.cholesky64(n, o.c64);
    if (failed !== 0) throw new FactorizationError(`Cholesky factorisation of ${woodbury ? "XᵀX" : "XXᵀ"}/c0² + I failed at pivot ${failed - 1}`);
    ex.invertFromCholesky64(n, o.c64, o.inv64);
    ex.f64ToF32(n * n, o.inv64, o.cinv);
  }

  const configure = [
    P, NB, M, problem.linear ? 1 : 0, problem.upperBound ? 1 : 0, problem.sparse ? 1 : 0,
    o.xt, o.x, o.xtRow ?? 0, o.xtCol ?? 0, o.xtVal ?? 0, o.xRow ?? 0, o.xCol ?? 0, o.xVal ?? 0,
    o.cinv, o.y, o.v, o.mask, o.u1, o.b, o.z, o.zNext, o.w3, o.w3Next, o.w2, o.u2, o.e, o.d, o.scratch, o.spmmScratch ?? 0, o.sums,
    problem.l1Weighted ? o.l1Weights : 0, woodbury ? 1 : 0,
  ];
  if (problem.l1Weighted) f32(o.l1Weights, NB * M).fill(1);
  ex.admmConfigure(...configure);
  const engine = loopEngine(backend, problem, o, c0);
  return { engine: problem.wUpdate === "cg" ? withCgUpdate(backend, engine, P, NB, M, o) : engine, offsets: o, configure };
}

/**
 * The engine over a loop admmConfigure has set up (C̃⁻¹ at o.cinv; y, v, mask, d, e, u1Saved,
 * scratch laid out): the Dense engine's and the conv engine's, whose products differ only inside wasm.
 */
export function loopEngine(backend: Backend, problem: LayerProblem, o: Record<string, number>, c0: number): AdmmEngine {
  const ex = backend.exports;
  const memory = backend.memory;
  const { P, M } = problem;
  const NB = problem.N + 1;
  const s = 1 / c0;
  // The iterates' current places (they swap every iteration). wasm returns a usize as a signed
  // i32: above 2 GiB it comes back negative, so read it unsigned.
  const at = {
    w2: () => ex.admmW2Pointer() >>> 0, w3: () => ex.admmW3Pointer() >>> 0,
    u1: () => ex.admmU1Pointer() >>> 0, u2: () => ex.admmU2Pointer() >>> 0, free: () => ex.admmFreeOutputPointer() >>> 0,
  };
  const f32 = (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n);
  const linear = problem.linear ? 1 : 0;
  const hasV = problem.upperBound ? 1 : 0;
  let epsScaled = 0;

  let ridge: { rms: number; l1: number } | undefined;
  const engine: AdmmEngine = {
    simd: backend.simd,
    threads: 1,
    scale: c0,
    start(epsilon, rho, alpha, weights, u1, u2) {
      epsScaled = epsilon * s;
      // Pointers swap between iterations: read the current ones.
      const w3 = f32(at.w3(), NB * M);
      if (weights) w3.set(weights);
      else w3.fill(0);
      const u1v = f32(at.u1(), P * M);
      if (u1) u1v.set(u1);
      else u1v.fill(0);
      const u2v = f32(at.u2(), NB * M);
      if (u2) u2v.set(u2);
      else u2v.fill(0);
      f32(at.w2(), NB * M).fill(0);
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
      const z = at.free();
      ex.productXtW(at.w2(), z);
      ex.measureOutput(P * M, linear, hasV, z, o.y, o.v, o.mask);
      return {
        fitError: Math.sqrt(ex.measuredFitSquared()) * c0,
        outputError: Math.sqrt(ex.measuredOutputSquared()) * c0,
        leakage: ex.measuredLeakage() * c0,
      };
    },
    leastSquares() {
      // Fixed by the data: the controller asks for the first ρ, the status for infeasibility.
      if (ridge) return ridge;
      if (problem.wUpdate === "woodbury") {
        // C̃⁻¹·X·Y = X·K·Y (K = (I + XᵀX)⁻¹: the push-through identity).
        ex.gemm(P, M, P, o.cinv, P, o.y, M, o.d, M, 0, o.scratch);
        ex.productXB(o.d, o.e);
      } else {
        ex.productXB(o.y, o.d);
        ex.gemm(NB, M, NB, o.cinv, NB, o.d, M, o.e, M, 0, o.scratch);
      }
      const n = NB * M;
      let l1 = 0;
      for (const v of f32(o.e, n)) l1 += Math.abs(v);
      ridge = { rms: n > 0 ? Math.sqrt(ex.sumSquares64(n, o.e) / n) : 0, l1 };
      return ridge;
    },
    saveDual() {
      f32(o.u1Saved, P * M).set(f32(at.u1(), P * M));
    },
    dualBound(epsilon, source = "current") {
      const lam = at.free();
      if (source === "increment") {
        const u1 = f32(at.u1(), P * M), saved = f32(o.u1Saved, P * M), diff = f32(lam, P * M);
        for (let i = 0; i < P * M; i++) diff[i] = u1[i] - saved[i];
      }
      ex.dualMultiplier(P * M, linear, source === "increment" ? lam : at.u1(), o.mask, lam);
      ex.productXB(lam, o.d);
      const mask = new Uint8Array(memory.buffer, o.mask, P * M);
      const terms = neuronDualTerms(f32(lam, P * M), f32(o.y, P * M), problem.upperBound ? f32(o.v, P * M) : undefined,
        problem.linear ? undefined : mask, f32(o.d, NB * M), P, NB, M, problem.l1Weighted ? f32(o.l1Weights, NB * M) : undefined);
      return perNeuronDualBound(terms.a, terms.b, terms.c, epsilon * s);
    },
    ...(problem.l1Weighted ? {
      setL1Weights(c: Float32Array | undefined) {
        const into = f32(o.l1Weights, NB * M);
        if (c) into.set(c);
        else into.fill(1);
      },
    } : {}),
    readW2() {
      return f32(at.w2(), NB * M).slice();
    },
    readDual() {
      return { u1: f32(at.u1(), P * M).slice(), u2: f32(at.u2(), NB * M).slice() };
    },
    dispose() {},
  };
  return engine;
}
