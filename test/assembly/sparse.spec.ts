import { csrCount, csrFromDense, csrFromDenseTransposed, spmm, spmmPacked, spmmScratchBytes } from "../../assembly/sparse";
import { transpose } from "../../assembly/transpose";
import { gemm, gemmScratchBytes } from "../../assembly/gemm";
import { allocBytes } from "./helpers";
import { SIZES, allocF32, fillRandom, getF32, getI32, release, setF32 } from "./helpers";

// Random rows×cols matrix (leading dimension cols + 2) at the given density,
// with every third row forced empty.
function sparseMatrix(rows: i32, cols: i32, lda: i32, density: f64): usize {
  const a = allocF32(rows * lda);
  fillRandom(a, rows * lda, density);
  for (let i = 0; i < rows; i += 3) for (let j = 0; j < cols; j++) setF32(a, i * lda + j, 0);
  return a;
}

function naiveCount(rows: i32, cols: i32, a: usize, lda: i32): i32 {
  let count = 0;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (getF32(a, i * lda + j) != 0) count++;
  return count;
}

// True if (rowPtr, colIdx, vals) lists exactly the nonzeros of `a`, or of aᵀ
// when `transposed`, row by row in ascending column order.
function csrMatches(rows: i32, cols: i32, a: usize, lda: i32, rowPtr: usize, colIdx: usize, vals: usize, transposed: bool): bool {
  const outRows = transposed ? cols : rows, outCols = transposed ? rows : cols;
  if (getI32(rowPtr, 0) != 0) return false;
  let e = 0;
  for (let r = 0; r < outRows; r++) {
    for (let c = 0; c < outCols; c++) {
      const v = transposed ? getF32(a, c * lda + r) : getF32(a, r * lda + c);
      if (v == 0) continue;
      if (getI32(colIdx, e) != c || getF32(vals, e) != v) return false;
      e++;
    }
    if (getI32(rowPtr, r + 1) != e) return false;
  }
  return true;
}

// spmm of a random sparse rows×k matrix with a dense k×n B, against f64 naive.
function spmmError(rows: i32, k: i32, n: i32, density: f64): f64 {
  const lda = k + 2, ldb = n + 3, ldc = n + 1;
  const a = sparseMatrix(rows, k, lda, density);
  const b = allocF32(k * ldb), c = allocF32(rows * ldc);
  fillRandom(b, k * ldb);
  fillRandom(c, rows * ldc); // must be overwritten
  const nnz = csrCount(rows, k, a, lda);
  const rowPtr = allocF32(rows + 1), colIdx = allocF32(nnz), vals = allocF32(nnz);
  csrFromDense(rows, k, a, lda, rowPtr, colIdx, vals);
  spmm(rows, n, rowPtr, colIdx, vals, b, ldb, c, ldc);
  // spmmPacked must give the very same numbers (same summation order).
  const cp = allocF32(rows * ldc), scratch = allocF32(spmmScratchBytes(k) / 4);
  spmmPacked(rows, n, k, rowPtr, colIdx, vals, b, ldb, cp, ldc, scratch);
  let same = true;
  for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) if (getF32(cp, i * ldc + j) != getF32(c, i * ldc + j)) same = false;
  release(cp); release(scratch);
  if (!same) return Infinity;
  let worst: f64 = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let ref: f64 = 0, mag: f64 = 0;
      for (let p = 0; p < k; p++) {
        const t = <f64>getF32(a, i * lda + p) * <f64>getF32(b, p * ldb + j);
        ref += t; mag += Math.abs(t);
      }
      worst = Math.max(worst, Math.abs(<f64>getF32(c, i * ldc + j) - ref) / (mag + 1e-30));
    }
  }
  release(a); release(b); release(c); release(rowPtr); release(colIdx); release(vals);
  return worst;
}

describe("csr", () => {
  test("csrCount, csrFromDense and csrFromDenseTransposed list exactly the nonzeros", () => {
    const shapes: i32[] = [0, 1, 2, 3, 5, 17, 67];
    for (let x = 0; x < shapes.length; x++) {
      for (let y = 0; y < shapes.length; y++) {
        const rows = shapes[x], cols = shapes[y], lda = cols + 2;
        const a = sparseMatrix(rows, cols, lda, 0.3);
        const nnz = csrCount(rows, cols, a, lda);
        expect(nnz).toBe(naiveCount(rows, cols, a, lda));
        const rowPtr = allocF32(rows + 1), colIdx = allocF32(nnz), vals = allocF32(nnz);
        csrFromDense(rows, cols, a, lda, rowPtr, colIdx, vals);
        expect(csrMatches(rows, cols, a, lda, rowPtr, colIdx, vals, false)).toBe(true);
        const rowPtrT = allocF32(cols + 1), colIdxT = allocF32(nnz), valsT = allocF32(nnz);
        csrFromDenseTransposed(rows, cols, a, lda, rowPtrT, colIdxT, valsT);
        expect(csrMatches(rows, cols, a, lda, rowPtrT, colIdxT, valsT, true)).toBe(true);
        release(a); release(rowPtr); release(colIdx); release(vals);
        release(rowPtrT); release(colIdxT); release(valsT);
      }
    }
  });
});

describe("spmm", () => {
  test("matches a dense product for every column tail (n = 0..50) and small row counts", () => {
    for (let n = 0; n <= 50; n++) {
      expect(spmmError(7, 13, n, 0.3)).toBeLessThanOrEqual(1e-5);
    }
    for (let x = 0; x < SIZES.length; x++) {
      for (let y = 0; y < SIZES.length; y++) {
        expect(spmmError(SIZES[x], SIZES[y], 29, 0.5)).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  test("larger shapes at MNIST-like and dense densities", () => {
    expect(spmmError(67, 131, 45, 0.2)).toBeLessThanOrEqual(1e-5);
    expect(spmmError(120, 200, 300, 0.2)).toBeLessThanOrEqual(1e-5);
    expect(spmmError(40, 50, 67, 1.0)).toBeLessThanOrEqual(1e-5);
    expect(spmmError(40, 50, 67, 0.0)).toBeLessThanOrEqual(1e-5);
  });
});

describe("spmm vs gemm", () => {
  test("S·B and Sᵀ·B from CSR agree with the dense GEMM kernel on the same matrix", () => {
    const rows = 83, k = 71, n = 45, lda = k + 2, ldb = n + 3;
    const a = sparseMatrix(rows, k, lda, 0.2);
    const at = allocF32(k * rows);
    transpose(rows, k, a, lda, at, rows);
    const b = allocF32(max(rows, k) * ldb);
    fillRandom(b, max(rows, k) * ldb);
    const scratch = allocBytes(gemmScratchBytes());
    const nnz = csrCount(rows, k, a, lda);
    const rp = allocF32(rows + 1), ci = allocF32(nnz), vs = allocF32(nnz);
    const rpT = allocF32(k + 1), ciT = allocF32(nnz), vsT = allocF32(nnz);
    csrFromDense(rows, k, a, lda, rp, ci, vs);
    csrFromDenseTransposed(rows, k, a, lda, rpT, ciT, vsT);
    const c1 = allocF32(rows * n), c2 = allocF32(rows * n);
    spmm(rows, n, rp, ci, vs, b, ldb, c1, n);
    gemm(rows, n, k, a, lda, b, ldb, c2, n, 0, scratch);
    let worst: f32 = 0;
    for (let i = 0; i < rows * n; i++) worst = Mathf.max(worst, Mathf.abs(getF32(c1, i) - getF32(c2, i)));
    expect(worst).toBeLessThanOrEqual(<f32>1e-5);
    const d1 = allocF32(k * n), d2 = allocF32(k * n);
    spmm(k, n, rpT, ciT, vsT, b, ldb, d1, n);
    gemm(k, n, rows, at, rows, b, ldb, d2, n, 0, scratch);
    worst = 0;
    for (let i = 0; i < k * n; i++) worst = Mathf.max(worst, Mathf.abs(getF32(d1, i) - getF32(d2, i)));
    expect(worst).toBeLessThanOrEqual(<f32>1e-5);
    release(a); release(at); release(b); release(scratch); release(rp); release(ci); release(vs);
    release(rpT); release(ciT); release(vsT); release(c1); release(c2); release(d1); release(d2);
  });
});

describe("transpose", () => {
  test("out[j][i] = a[i][j] exactly, with padded leading dimensions", () => {
    const shapes: i32[] = [0, 1, 2, 3, 5, 17, 33, 67];
    for (let x = 0; x < shapes.length; x++) {
      for (let y = 0; y < shapes.length; y++) {
        const rows = shapes[x], cols = shapes[y], lda = cols + 3, ldo = rows + 1;
        const a = allocF32(rows * lda), out = allocF32(cols * ldo);
        fillRandom(a, rows * lda);
        transpose(rows, cols, a, lda, out, ldo);
        let ok = true;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) if (getF32(out, j * ldo + i) != getF32(a, i * lda + j)) ok = false;
        }
        expect(ok).toBe(true);
        release(a); release(out);
      }
    }
  });
});
