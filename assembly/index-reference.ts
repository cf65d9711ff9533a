// The reference build (target reference → build/net-trim-reference.wasm), for tests and
// benchmarks only, never shipped: every kernel of index.ts, and the kernels they are checked or
// timed against.
export * from "./index";
// The row-wise factorisation and inverse the blocked ones replaced.
export { cholesky64Rowwise, invertFromCholesky64Rowwise } from "./cholesky-rowwise";
// spmmPacked with its panel height as a parameter (a whole-k panel: session 5's kernel).
export { spmmPackedBlocked } from "./sparse";
