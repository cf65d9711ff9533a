// The wasm module's export list: every public kernel, nothing else (the kernels tests and
// benchmarks compare against are in index-reference.ts, a build that is not shipped).
export { heapBase } from "./memory-layout";
export { gemm, gemmScratchBytes } from "./gemm";
export { csrCount, csrFromDense, csrFromDenseTransposed, spmm, spmmPacked, spmmScratchBytes, gramLowerPacked } from "./sparse";
export { transpose } from "./transpose";
export {
  fill, copy, scale, axpy,
  sumSquares64, dot64, diffSumSquares64,
  maxAbs, countAbove, softThreshold,
} from "./vector";
export { f32ToF64, f64ToF32 } from "./precision";
export { cholesky64, solveCholesky64, invertFromCholesky64 } from "./cholesky";
export { cgWorkBytes, cgSolveDense, cgSolveGram, cgSolveGramCsr, cgSolveConv } from "./cg";
export {
  admmConfigure, admmSumsBytes, admmStart, admmSetRho, admmIterate, admmStat,
  admmW2Pointer, admmW3Pointer, admmU1Pointer, admmU2Pointer, admmFreeOutputPointer,
  productXtW, productXB, admmUseCg, admmCgSolve, admmCgIterations,
} from "./admm";
export {
  measureOutput, dualMultiplier, measuredFitSquared, measuredOutputSquared, measuredLeakage,
  buildDesign, buildMask, gramPlusIdentity64,
} from "./measure";
export { convConfigure, convBlockRows, convForward, convAdjoint, convGram, convForwardRows, convAdjointRows, convAdjointRowsOfTransposed } from "./conv";
export { simdBuild } from "./build-info";
export { designByColumns64, transposeToF64, householderQr64, applyQt64 } from "./qr";
