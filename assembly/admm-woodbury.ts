// The W-update in the Woodbury form (admm.ts, P < N̄): with K = (I + Xt·X)⁻¹ (P×P, formed once),
// C̃⁻¹ = (I + X·Xt)⁻¹ = I − X·K·Xt, so W3⁺ = C̃⁻¹(X·B + E) is
//   T = B − Xt·E,  S = K·T,  W3⁺ = X·S + E
// and Z⁺ = Xt·W3⁺ follows as in the factored form. (Z⁺ = B − S holds too in exact arithmetic, but
// in f32 its error times ‖I + XᵀX‖ leaves Z⁺ off Xt·W3⁺ and the ADMM converges to a point ~1e-4
// off its constraint; the product keeps them consistent.) An iteration costs three products and
// P²·M where the factored form costs two and N̄²·M; setup factors a P×P matrix, not N̄×N̄.
// Each function computes rows [r0, r1) of its result; every row's bits do not depend on the split.
import { gemm } from "./gemm";
import { rowsProduct } from "./row-product";
import { addPass, subtractPass } from "./admm-passes";

/**
 * T = B − Xt·E on output rows [r0, r1) (T: P×M, in the D buffer), summed as (B − Xt·(E − W3)) − Z
 * with Z = Xt·W3: E − W3 and B − Z shrink as the ADMM converges, E and B do not, so the f32 sums'
 * errors shrink with them (summing Xt·E whole left the iterates ~1e-4 relative off at ε = 0).
 */
export function woodburyRightSide(
  r0: i32, r1: i32, NB: i32, M: i32, sparse: bool,
  xt: usize, xtRow: usize, xtCol: usize, xtVal: usize, eMinusW3: usize, b: usize, z: usize, t: usize,
  gemmScratch: usize, spmmScratch: usize,
): void {
  if (r1 <= r0) return;
  rowsProduct(r0, r1, NB, M, sparse, xt, xtRow, xtCol, xtVal, eMinusW3, t, gemmScratch, spmmScratch);
  const i0 = <usize>r0 * <usize>M, i1 = <usize>r1 * <usize>M;
  subtractPass(i0, i1, b, t, t);
  subtractPass(i0, i1, t, z, t);
}

/** S = K·T on output rows [r0, r1). */
export function woodburyK(r0: i32, r1: i32, P: i32, M: i32, k: usize, t: usize, s: usize, gemmScratch: usize): void {
  if (r1 <= r0) return;
  gemm(r1 - r0, M, P, k + <usize>r0 * <usize>P * 4, P, t, M, s + <usize>r0 * <usize>M * 4, M, 0, gemmScratch);
}

/** W3⁺ = X·S + E on weight rows [r0, r1) (summing the increment W3 + ((E − W3) + X·S) instead measured no better). */
export function woodburyWeights(
  r0: i32, r1: i32, P: i32, M: i32, sparse: bool,
  x: usize, xRow: usize, xCol: usize, xVal: usize, s: usize, e: usize, w3Next: usize,
  gemmScratch: usize, spmmScratch: usize,
): void {
  if (r1 <= r0) return;
  rowsProduct(r0, r1, P, M, sparse, x, xRow, xCol, xVal, s, w3Next, gemmScratch, spmmScratch);
  addPass(<usize>r0 * <usize>M, <usize>r1 * <usize>M, e, w3Next);
}
