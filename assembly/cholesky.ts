// Cholesky factorisation, inverse and solves in f64 for the ADMM's SPD system (X Xᵀ + ρI).
// Factorisation and inverse are blocked: blocks of T rows/columns, the O(n³) work in the tiled
// SIMD product of product64.ts, the O(n²·T) rest in row operations. Row-major storage; the
// scalar and SIMD builds take every sum in the same order (same bits).
import { addProduct64 } from "./product64";
import { scaleRow, subtractScaledRow, subtractScaledRows4 } from "./rows64";

// Block size: a T×T tile of each operand (32 KiB) stays in cache during an update.
const T: i32 = 64;

/**
 * In place: the lower triangle of the SPD n×n f64 matrix `a` (row-major) is replaced by L with
 * L·Lᵀ = A, and the strict upper triangle is zeroed. Only the lower triangle of the input is
 * read. Returns 0 on success, or j + 1 if pivot j is not positive (matrix not numerically SPD;
 * `a` is then partly overwritten).
 *
 * Right-looking by blocks of T columns K: factor the diagonal block, solve the panel below it,
 * subtract its product from the lower triangle to its right. The panel's transpose is kept in
 * the strict upper triangle of K's rows (unused input), so both operands of the update are read
 * along rows.
 */
export function cholesky64(n: i32, a: usize): i32 {
  const rowBytes = <usize>n * 8;
  for (let k0 = 0; k0 < n; k0 += T) {
    const k1 = min(k0 + T, n);
    const failed = factorDiagonalBlock(a, rowBytes, k0, k1);
    if (failed != 0) return failed;
    if (k1 == n) break;
    solvePanel(n, a, rowBytes, k0, k1);
    // A[I, k1..i1) −= L[I, K]·L[k1..i1), K]ᵀ for each block of rows I below K (lower triangle only).
    for (let i0 = k1; i0 < n; i0 += T) {
      const i1 = min(i0 + T, n);
      const rowsI = a + <usize>i0 * rowBytes;
      addProduct64(i1 - i0, i1 - k1, k1 - k0, -1.0,
        rowsI + <usize>k0 * 8, rowBytes, 8, a + <usize>k0 * rowBytes + <usize>k1 * 8, n, rowsI + <usize>k1 * 8, n);
    }
  }
  for (let i = 0; i < n - 1; i++) {
    memory.fill(a + <usize>i * rowBytes + <usize>(i + 1) * 8, 0, <usize>(n - 1 - i) * 8);
  }
  return 0;
}

// Unblocked Cholesky of the diagonal block rows/columns [k0, k1) (earlier blocks' updates applied).
function factorDiagonalBlock(a: usize, rowBytes: usize, k0: i32, k1: i32): i32 {
  for (let i = k0; i < k1; i++) {
    const li = a + <usize>i * rowBytes;
    for (let j = k0; j <= i; j++) {
      const lj = a + <usize>j * rowBytes;
      let s = load<f64>(li + <usize>j * 8);
      for (let k = k0; k < j; k++) s -= load<f64>(li + <usize>k * 8) * load<f64>(lj + <usize>k * 8);
      if (i == j) {
        if (!(s > 0)) return j + 1; // also catches NaN
        store<f64>(li + <usize>j * 8, Math.sqrt(s));
      } else {
        store<f64>(li + <usize>j * 8, s / load<f64>(lj + <usize>j * 8));
      }
    }
  }
  return 0;
}

/**
 * L[i][k] for i ≥ k1, k in [k0, k1): (A[i][k] − Σ_{k0≤m<k} L[k][m]·L[i][m]) / L[k][k]. Worked on
 * the transpose, held in row k's columns ≥ k1, so the inner loops run along contiguous rows;
 * then copied back below the diagonal block.
 */
function solvePanel(n: i32, a: usize, rowBytes: usize, k0: i32, k1: i32): void {
  const len = n - k1;
  for (let k = k0; k < k1; k++) {
    const tk = a + <usize>k * rowBytes + <usize>k1 * 8;
    for (let i = k1; i < n; i++) store<f64>(tk + <usize>(i - k1) * 8, load<f64>(a + <usize>i * rowBytes + <usize>k * 8));
    const lk = a + <usize>k * rowBytes;
    for (let m = k0; m < k; m++) {
      subtractScaledRow(len, load<f64>(lk + <usize>m * 8), a + <usize>m * rowBytes + <usize>k1 * 8, tk);
    }
    scaleRow(len, 1.0 / load<f64>(lk + <usize>k * 8), tk);
    for (let i = k1; i < n; i++) store<f64>(a + <usize>i * rowBytes + <usize>k * 8, load<f64>(tk + <usize>(i - k1) * 8));
  }
}

/**
 * out (n×n f64) = (L Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, exactly symmetric, for the factor from cholesky64 (its
 * strict upper triangle zero). `l` is overwritten by L⁻¹ (lower triangular) on the way, `out`
 * serves as scratch first; it must not overlap `l`. About n³/3 multiply-adds.
 */
export function invertFromCholesky64(n: i32, l: usize, out: usize): void {
  if (n <= 0) return;
  invertLowerBlocked(n, l, out);
  lowerGramBlocked(n, l, out);
}

/**
 * L ← Y = L⁻¹ by blocks of T rows I: row r of Y is (e_r − Σ_{k<r} L[r][k]·Y[k]) / L[r][r]. The
 * sum over k below the block (rows of Y already final) is one tiled product per block of T
 * columns (Y is zero above its diagonal, so column block c0 needs k ≥ c0 only); the rest row by
 * row. The block is built in out's rows I, then copied into l.
 */
function invertLowerBlocked(n: i32, l: usize, out: usize): void {
  const rowBytes = <usize>n * 8;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = min(i0 + T, n);
    const t = out + <usize>i0 * rowBytes;
    memory.fill(t, 0, <usize>(i1 - i0) * rowBytes);
    const lI = l + <usize>i0 * rowBytes;
    for (let c0 = 0; c0 < i0; c0 += T) {
      const c1 = min(c0 + T, i0);
      addProduct64(i1 - i0, c1 - c0, i0 - c0, -1.0,
        lI + <usize>c0 * 8, rowBytes, 8, l + <usize>c0 * rowBytes + <usize>c0 * 8, n, t + <usize>c0 * 8, n);
    }
    for (let r = i0; r < i1; r++) {
      const lr = l + <usize>r * rowBytes;
      const tr = t + <usize>(r - i0) * rowBytes;
      store<f64>(tr + <usize>r * 8, 1.0);
      for (let k = i0; k < r; k++) {
        subtractScaledRow(k + 1, load<f64>(lr + <usize>k * 8), t + <usize>(k - i0) * rowBytes, tr);
      }
      scaleRow(r + 1, 1.0 / load<f64>(lr + <usize>r * 8), tr);
    }
    memory.copy(lI, t, <usize>(i1 - i0) * rowBytes);
  }
}

/**
 * out = YᵀY for a lower-triangular Y (row-major): out[i][j] = Σ_{k ≥ max(i,j)} Y[k][i]·Y[k][j].
 * By blocks of T rows I: out[I, 0..i1) = Σ_{k ≥ i0} Y[k][I]ᵀ·Y[k][0..i1) (the terms with k below
 * max(i, j) are zero), one tiled product reading Y transposed; then the lower triangle is
 * mirrored up.
 */
function lowerGramBlocked(n: i32, y: usize, out: usize): void {
  const rowBytes = <usize>n * 8;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = min(i0 + T, n);
    const o = out + <usize>i0 * rowBytes;
    memory.fill(o, 0, <usize>(i1 - i0) * rowBytes);
    const yI = y + <usize>i0 * rowBytes;
    addProduct64(i1 - i0, i1, n - i0, 1.0, yI + <usize>i0 * 8, 8, rowBytes, yI, n, o, n);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) store<f64>(out + <usize>j * rowBytes + <usize>i * 8, load<f64>(out + <usize>i * rowBytes + <usize>j * 8));
  }
}

/**
 * In place B ← (L Lᵀ)⁻¹ B for the factor from cholesky64 (only its lower
 * triangle is read) and an n×nrhs f64 B with leading dimension ldb.
 */
export function solveCholesky64(n: i32, l: usize, nrhs: i32, b: usize, ldb: i32): void {
  if (n <= 0 || nrhs <= 0) return;
  const lRow = <usize>n * 8;
  const bRow = <usize>ldb * 8;
  // Forward: L Y = B, row i of Y from the rows above it, four rows of B per
  // pass so row i is loaded and stored a quarter as often.
  for (let i = 0; i < n; i++) {
    const li = l + <usize>i * lRow;
    const bi = b + <usize>i * bRow;
    let k = 0;
    for (; k + 4 <= i; k += 4) {
      const bk = b + <usize>k * bRow;
      const lk = li + <usize>k * 8;
      subtractScaledRows4(nrhs,
        load<f64>(lk), load<f64>(lk, 8), load<f64>(lk, 16), load<f64>(lk, 24),
        bk, bk + bRow, bk + 2 * bRow, bk + 3 * bRow, bi);
    }
    for (; k < i; k++) {
      subtractScaledRow(nrhs, load<f64>(li + <usize>k * 8), b + <usize>k * bRow, bi);
    }
    scaleRow(nrhs, 1.0 / load<f64>(li + <usize>i * 8), bi);
  }
  // Backward: Lᵀ X = Y, bottom-up in blocks of up to four rows. Once a block
  // of X is final, its contribution to the rows above is removed using rows
  // of L (contiguous) rather than columns.
  let hi = n;
  while (hi > 0) {
    const lo = max(hi - 4, 0);
    // The block's own triangle.
    for (let i = hi - 1; i >= lo; i--) {
      const li = l + <usize>i * lRow;
      const bi = b + <usize>i * bRow;
      scaleRow(nrhs, 1.0 / load<f64>(li + <usize>i * 8), bi);
      for (let k = lo; k < i; k++) {
        subtractScaledRow(nrhs, load<f64>(li + <usize>k * 8), bi, b + <usize>k * bRow);
      }
    }
    // Rows above the block.
    if (hi - lo == 4) {
      const l0 = l + <usize>lo * lRow;
      const b0 = b + <usize>lo * bRow;
      for (let k = 0; k < lo; k++) {
        const lk = l0 + <usize>k * 8;
        subtractScaledRows4(nrhs,
          load<f64>(lk), load<f64>(lk + lRow), load<f64>(lk + 2 * lRow), load<f64>(lk + 3 * lRow),
          b0, b0 + bRow, b0 + 2 * bRow, b0 + 3 * bRow, b + <usize>k * bRow);
      }
    } else {
      for (let i = lo; i < hi; i++) {
        const li = l + <usize>i * lRow;
        const bi = b + <usize>i * bRow;
        for (let k = 0; k < lo; k++) {
          subtractScaledRow(nrhs, load<f64>(li + <usize>k * 8), bi, b + <usize>k * bRow);
        }
      }
    }
    hi = lo;
  }
}

