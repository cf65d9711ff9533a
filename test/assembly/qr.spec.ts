import { applyQt64, designByColumns64, householderQr64, transposeToF64 } from "../../assembly/qr";
import { allocF32, allocF64, fillRandom, getF64, release } from "./helpers";

// (cols, p): sizes that hit the SIMD tails (odd lengths) and p = n.
const SHAPES: i32[][] = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [6, 17], [16, 17], [9, 40]];

/** R[i][k] from the packed QR result. */
function rAt(a: usize, rdiag: usize, p: i32, i: i32, k: i32): f64 {
  if (i > k) return 0;
  if (i == k) return getF64(rdiag, k);
  return getF64(a, k * p + i);
}

/** Runs the QR on a seeded design (feature `dead` all zero when ≥ 0) and checks its identities. */
function checkQr(cols: i32, p: i32, dead: i32): void {
  const n = cols + 1, m = 3;
  const input = allocF32(p * cols), y = allocF32(p * m);
  fillRandom(input, p * cols, 0.6);
  fillRandom(y, p * m);
  if (dead >= 0) for (let i = 0; i < p; i++) store<f32>(input + <usize>(i * cols + dead) * 4, 0);
  const a = allocF64(n * p), orig = allocF64(n * p), tau = allocF64(n), rdiag = allocF64(n), yt = allocF64(m * p);
  designByColumns64(p, cols, input, 0.5, a);
  memory.copy(orig, a, <usize>(n * p) * 8);
  transposeToF64(p, m, y, yt);
  let ySq: f64 = 0;
  const xty = new Array<f64>(n * m);
  for (let c = 0; c < m; c++) for (let i = 0; i < p; i++) ySq += getF64(yt, c * p + i) * getF64(yt, c * p + i);
  for (let k = 0; k < n; k++) for (let c = 0; c < m; c++) {
    let s: f64 = 0;
    for (let i = 0; i < p; i++) s += getF64(orig, k * p + i) * getF64(yt, c * p + i);
    xty[k * m + c] = s;
  }
  householderQr64(n, p, a, tau, rdiag);
  applyQt64(n, p, a, tau, m, yt);
  if (dead == 0) {
    expect(getF64(tau, 0)).toBe(0);
    expect(getF64(rdiag, 0)).toBe(0);
  }

  let worstGram: f64 = 0;
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) {
    let g: f64 = 0, r: f64 = 0;
    for (let i = 0; i < p; i++) g += getF64(orig, j * p + i) * getF64(orig, k * p + i);
    for (let i = 0; i < n; i++) r += rAt(a, rdiag, p, i, j) * rAt(a, rdiag, p, i, k);
    worstGram = Math.max(worstGram, Math.abs(g - r));
  }
  expect(worstGram).toBeLessThanOrEqual(1e-12 * <f64>p);

  // ‖QᵀY‖ = ‖Y‖, and Rᵀ·(QᵀY)[0..n) = XᵀY.
  let qySq: f64 = 0, worstCross: f64 = 0;
  for (let c = 0; c < m; c++) for (let i = 0; i < p; i++) qySq += getF64(yt, c * p + i) * getF64(yt, c * p + i);
  for (let k = 0; k < n; k++) for (let c = 0; c < m; c++) {
    let s: f64 = 0;
    for (let i = 0; i <= k; i++) s += rAt(a, rdiag, p, i, k) * getF64(yt, c * p + i);
    worstCross = Math.max(worstCross, Math.abs(s - xty[k * m + c]));
  }
  expect(Math.abs(qySq - ySq)).toBeLessThanOrEqual(1e-12 * <f64>p);
  expect(worstCross).toBeLessThanOrEqual(1e-12 * <f64>p);
  release(input); release(y); release(a); release(orig); release(tau); release(rdiag); release(yt);
}

describe("householderQr64", () => {
  test("RᵀR equals the Gram matrix of the design, and QᵀY keeps ‖Y‖ and Xᵀ Y", () => {
    for (let t = 0; t < SHAPES.length; t++) checkQr(SHAPES[t][0], SHAPES[t][1], -1);
  });

  test("an all-zero feature: no reflection at its step, R[j][j] = 0, the identities still hold", () => {
    checkQr(3, 7, 0);
    checkQr(5, 12, 2);
  });
});
