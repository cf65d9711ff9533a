// Rows [r0, r1) of C = A·B (A: rows × k, B: k × M, C row-major with M columns), from A's CSR
// arrays when sparse, else from A dense (row-major, k columns). The ADMM's products (X·B, Xt·W3,
// and the Woodbury form's) all take this shape; each row's bits do not depend on [r0, r1).
import { gemm } from "./gemm";
import { spmmPacked } from "./sparse";

export function rowsProduct(
  r0: i32, r1: i32, k: i32, M: i32, sparse: bool,
  dense: usize, rowPtr: usize, colIdx: usize, vals: usize, b: usize, c: usize,
  gemmScratch: usize, spmmScratch: usize,
): void {
  if (r1 <= r0) return;
  const out = c + <usize>r0 * <usize>M * 4;
  if (sparse) spmmPacked(r1 - r0, M, k, rowPtr + <usize>r0 * 4, colIdx, vals, b, M, out, M, spmmScratch);
  else gemm(r1 - r0, M, k, dense + <usize>r0 * <usize>k * 4, k, b, M, out, M, 0, gemmScratch);
}
