// The wasm module's export list: every public kernel, nothing else.
export { heapBase } from "./memory-layout";
export { gemm, gemmScratchBytes } from "./gemm";
