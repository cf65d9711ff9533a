// The blocked f64 kernels (product64.ts, the blocked cholesky64 / invertFromCholesky64) against
// plain textbook loops written here, on sizes that cross the block (64), pass (128) and
// width (256) boundaries and leave remainders.
import { addProduct64 } from "../../assembly/product64";
import { cholesky64, invertFromCholesky64 } from "../../assembly/cholesky";
import { allocF64, getF64, rand, release, setF64 } from "./helpers";

// Random symmetric matrix with a dominant diagonal (SPD), n×n f64; the upper triangle holds
// garbage (999) that the factorisation must not read.
function spdWithGarbageAbove(n: i32): usize {
  const a = allocF64(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) setF64(a, i * n + j, <f64>rand());
    for (let j = i + 1; j < n; j++) setF64(a, i * n + j, 999);
    setF64(a, i * n + i, <f64>n);
  }
  return a;
}

// Textbook Cholesky–Banachiewicz, one entry at a time, reading the lower triangle of a.
function plainCholesky(n: i32, a: usize, l: usize): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = getF64(a, i * n + j);
      for (let k = 0; k < j; k++) s -= getF64(l, i * n + k) * getF64(l, j * n + k);
      setF64(l, i * n + j, i == j ? Math.sqrt(s) : s / getF64(l, j * n + j));
    }
  }
}

describe("addProduct64", () => {
  test("C += α·A·B against a plain triple loop, A read straight and transposed, odd shapes", () => {
    const shapes: i32[] = [1, 1, 1, 5, 7, 3, 4, 4, 129, 9, 261, 130, 66, 300, 67];
    for (let s = 0; s < shapes.length; s += 3) {
      const rows = shapes[s], cols = shapes[s + 1], depth = shapes[s + 2];
      for (let transposed = 0; transposed < 2; transposed++) {
        const lda = transposed ? rows + 1 : depth + 2, ldb = cols + 3, ldc = cols + 1;
        const aRows = transposed ? depth : rows;
        const a = allocF64(aRows * lda), b = allocF64(depth * ldb), c = allocF64(rows * ldc);
        for (let i = 0; i < aRows * lda; i++) setF64(a, i, <f64>rand());
        for (let i = 0; i < depth * ldb; i++) setF64(b, i, <f64>rand());
        for (let i = 0; i < rows * ldc; i++) setF64(c, i, <f64>rand());
        const c0 = allocF64(rows * ldc);
        memory.copy(c0, c, <usize>(rows * ldc) * 8);
        const aRow: usize = transposed ? 8 : <usize>lda * 8, aCol: usize = transposed ? <usize>lda * 8 : 8;
        addProduct64(rows, cols, depth, -0.5, a, aRow, aCol, b, ldb, c, ldc);
        let worst: f64 = 0, paddingKept = true;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < ldc; j++) {
            if (j >= cols) {
              if (getF64(c, i * ldc + j) != getF64(c0, i * ldc + j)) paddingKept = false;
              continue;
            }
            let ref = getF64(c0, i * ldc + j);
            for (let k = 0; k < depth; k++) {
              const aik = transposed ? getF64(a, k * lda + i) : getF64(a, i * lda + k);
              ref -= 0.5 * aik * getF64(b, k * ldb + j);
            }
            worst = Math.max(worst, Math.abs(getF64(c, i * ldc + j) - ref));
          }
        }
        expect(paddingKept).toBe(true);
        expect(worst).toBeLessThanOrEqual(1e-12 * <f64>depth);
        release(a); release(b); release(c); release(c0);
      }
    }
  });
});

describe("blocked cholesky64 and invertFromCholesky64", () => {
  test("the factor equals the textbook one, the inverse times A is I, across several blocks", () => {
    const orders: i32[] = [63, 64, 65, 130, 197];
    for (let t = 0; t < orders.length; t++) {
      const n = orders[t];
      const a = spdWithGarbageAbove(n), l = allocF64(n * n), ref = allocF64(n * n), inv = allocF64(n * n);
      memory.copy(l, a, <usize>(n * n) * 8);
      plainCholesky(n, a, ref);
      expect(cholesky64(n, l)).toBe(0);
      let worstL: f64 = 0, upperZero = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j > i) { if (getF64(l, i * n + j) != 0) upperZero = false; continue; }
          worstL = Math.max(worstL, Math.abs(getF64(l, i * n + j) - getF64(ref, i * n + j)));
        }
      }
      expect(upperZero).toBe(true);
      expect(worstL).toBeLessThanOrEqual(1e-12 * Math.sqrt(<f64>n));
      invertFromCholesky64(n, l, inv);
      // A is read from its lower triangle (the upper holds garbage): A[i][k] = A[max][min].
      let worstI: f64 = 0, symmetric = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (getF64(inv, i * n + j) != getF64(inv, j * n + i)) symmetric = false;
          let s: f64 = 0;
          for (let k = 0; k < n; k++) s += getF64(inv, i * n + k) * getF64(a, max(k, j) * n + min(k, j));
          worstI = Math.max(worstI, Math.abs(s - (i == j ? 1.0 : 0.0)));
        }
      }
      expect(symmetric).toBe(true);
      expect(worstI).toBeLessThanOrEqual(1e-12);
      release(a); release(l); release(ref); release(inv);
    }
  });

  test("a non-positive pivot in a later block is reported by its index", () => {
    const n = 150;
    const a = spdWithGarbageAbove(n);
    setF64(a, 140 * n + 140, -1.0);
    expect(cholesky64(n, a)).toBe(141);
    release(a);
  });
});
