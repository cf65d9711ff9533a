// The wasm module's exports as TypeScript sees them (pointers are byte offsets).
export interface KernelExports {
  memory: WebAssembly.Memory;
  simdBuild(): number;
  heapBase(): number;
  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, scratch: number): void;
  gemmScratchBytes(): number;
  csrCount(rows: number, cols: number, a: number, lda: number): number;
  csrFromDense(rows: number, cols: number, a: number, lda: number, rowPtr: number, colIdx: number, vals: number): void;
  csrFromDenseTransposed(rows: number, cols: number, a: number, lda: number, rowPtr: number, colIdx: number, vals: number): void;
  spmm(rows: number, n: number, rowPtr: number, colIdx: number, vals: number, b: number, ldb: number, c: number, ldc: number): void;
  spmmScratchBytes(k: number): number;
  spmmPacked(rows: number, n: number, k: number, rowPtr: number, colIdx: number, vals: number, b: number, ldb: number, c: number, ldc: number, scratch: number): void;
  gramLowerPacked(n: number, k: number, rowPtr: number, colIdx: number, vals: number, b: number, ldb: number, c: number, ldc: number, scratch: number): void;
  sumSquares64(n: number, x: number): number;
  transpose(rows: number, cols: number, a: number, lda: number, out: number, ldo: number): void;
  maxAbs(n: number, x: number): number;
  scale(n: number, alpha: number, x: number): void;
  cholesky64(n: number, a: number): number;
  invertFromCholesky64(n: number, l: number, out: number): void;
  f64ToF32(n: number, src: number, dst: number): void;
  admmConfigure(...args: number[]): void;
  admmSumsBytes(p: number, nb: number): number;
  admmStart(eps: number, rho: number, alpha: number): void;
  admmSetRho(rho: number): void;
  admmIterate(count: number, stats: number): void;
  admmStat(k: number): number;
  admmW2Pointer(): number;
  admmW3Pointer(): number;
  admmU1Pointer(): number;
  admmU2Pointer(): number;
  admmFreeOutputPointer(): number;
  productXtW(w: number, out: number): void;
  productXB(b: number, out: number): void;
  measureOutput(n: number, linear: number, hasV: number, z: number, y: number, v: number, mask: number): void;
  dualMultiplier(n: number, linear: number, u1: number, mask: number, out: number): void;
  measuredFitSquared(): number;
  measuredOutputSquared(): number;
  measuredLeakage(): number;
  buildDesign(p: number, n: number, input: number, s: number, one: number, xt: number): void;
  buildMask(n: number, y: number, threshold: number, mask: number): void;
  gramPlusIdentity64(n: number, g: number, out: number): void;
  designByColumns64(p: number, cols: number, input: number, biasValue: number, a: number): void;
  transposeToF64(rows: number, cols: number, src: number, dst: number): void;
  householderQr64(n: number, p: number, a: number, tau: number, rdiag: number): void;
  applyQt64(n: number, p: number, a: number, tau: number, count: number, b: number): void;
  convConfigure(...args: number[]): void;
  convBlockRows(nb: number): number;
  convForward(w: number, out: number): void;
  convAdjoint(b: number, out: number): void;
  convForwardRows(w: number, out: number, r0: number, r1: number): void;
  convAdjointRows(b: number, out: number, k0: number, k1: number): void;
  convAdjointRowsOfTransposed(bT: number, ldbT: number, out: number, k0: number, k1: number): void;
  convGram(out: number): void;
  cgWorkBytes(n: number, p: number, nrhs: number): number;
  cgSolveConv(n: number, p: number, nrhs: number, b: number, ldb: number, x: number, ldx: number, tol: number, maxIter: number, work: number): number;
  admmUseCg(work: number, tol: number, maxIter: number): void;
  admmCgSolve(b: number, x: number, tol: number, maxIter: number, work: number): number;
  admmCgIterations(): number;
}

/** The threaded build's extra exports (assembly/admm-threads.ts). */
export interface ThreadedKernelExports extends KernelExports {
  admmPublishState(at: number): void;
  threadControlBytes(): number;
  threadStatePointer(control: number): number;
  threadPost(control: number, exit: number, count: number, stats: number, threads: number): void;
  admmRunThread(control: number, thread: number, gemmScratch: number, spmmScratch: number, mayWait: number): void;
  admmServeThread(control: number, thread: number, gemmScratch: number, spmmScratch: number): void;
}
