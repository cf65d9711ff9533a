// The W-update in the Woodbury form (admm.ts, P < N̄): with K = (I + Xt·X)⁻¹ (P×P, formed once),
// C̃⁻¹ = (I + X·Xt)⁻¹ = I − X·K·Xt and Xt·C̃⁻¹·X = I − K, so W3⁺ = C̃⁻¹(X·B + E) and Z⁺ = Xt·W3⁺ are
//   T = B − Xt·E,  Z⁺ = B − K·T,  W3⁺ = X·(B − Z⁺) + E = X·U1 + E
// (U1 = B − Z⁺ is the dual update itself). An iteration costs the same two products as the
// factored form and a P²·M product instead of N̄²·M; setup factors a P×P matrix, not N̄×N̄.
// Each function computes rows [r0, r1) of its result; every row's bits do not depend on the split.
import { gemm } from "./gemm";
import { spmmPacked } from "./sparse";
import { addPass, subtractPass } from "./admm-passes";

/** T = B − Xt·E on output rows [r0, r1) (T: P×M, in the D buffer). */
export function woodburyRightSide(
  r0: i32, r1: i32, NB: i32, M: i32, sparse: bool,
  xt: usize, xtRow: usize, xtCol: usize, xtVal: usize, e: usize, b: usize, t: usize,
  gemmScratch: usize, spmmScratch: usize,
): void {
  if (r1 <= r0) return;
  const out = t + <usize>r0 * <usize>M * 4;
  if (sparse) spmmPacked(r1 - r0, M, NB, xtRow + <usize>r0 * 4, xtCol, xtVal, e, M, out, M, spmmScratch);
  else gemm(r1 - r0, M, NB, xt + <usize>r0 * <usize>NB * 4, NB, e, M, out, M, 0, gemmScratch);
  subtractPass(<usize>r0 * <usize>M, <usize>r1 * <usize>M, b, t, t);
}

/** Z⁺ = B − K·T on output rows [r0, r1). */
export function woodburyOutputs(r0: i32, r1: i32, P: i32, M: i32, k: usize, t: usize, b: usize, zNext: usize, gemmScratch: usize): void {
  if (r1 <= r0) return;
  gemm(r1 - r0, M, P, k + <usize>r0 * <usize>P * 4, P, t, M, zNext + <usize>r0 * <usize>M * 4, M, 0, gemmScratch);
  subtractPass(<usize>r0 * <usize>M, <usize>r1 * <usize>M, b, zNext, zNext);
}

/** W3⁺ = X·U1 + E on weight rows [r0, r1). */
export function woodburyWeights(
  r0: i32, r1: i32, P: i32, M: i32, sparse: bool,
  x: usize, xRow: usize, xCol: usize, xVal: usize, u1: usize, e: usize, w3Next: usize,
  gemmScratch: usize, spmmScratch: usize,
): void {
  if (r1 <= r0) return;
  const out = w3Next + <usize>r0 * <usize>M * 4;
  if (sparse) spmmPacked(r1 - r0, M, P, xRow + <usize>r0 * 4, xCol, xVal, u1, M, out, M, spmmScratch);
  else gemm(r1 - r0, M, P, x + <usize>r0 * <usize>P * 4, P, u1, M, out, M, 0, gemmScratch);
  addPass(<usize>r0 * <usize>M, <usize>r1 * <usize>M, e, w3Next);
}
