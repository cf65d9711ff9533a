import { cholesky64, solveCholesky64, invertFromCholesky64 } from "../../assembly/cholesky";
import { allocF64, getF64, rand, release, setF64 } from "./helpers";

const ORDERS: i32[] = [1, 2, 3, 4, 5, 7, 17, 67];

// Random SPD matrix A = M·Mᵀ/n + I (n×n f64).
function randomSpd(n: i32): usize {
  const m = allocF64(n * n), a = allocF64(n * n);
  for (let i = 0; i < n * n; i++) setF64(m, i, <f64>rand());
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s: f64 = 0;
      for (let k = 0; k < n; k++) s += getF64(m, i * n + k) * getF64(m, j * n + k);
      setF64(a, i * n + j, s / <f64>n + (i == j ? 1.0 : 0.0));
    }
  }
  release(m);
  return a;
}

describe("cholesky64", () => {
  test("L·Lᵀ reproduces A and the strict upper triangle is zero", () => {
    for (let t = 0; t < ORDERS.length; t++) {
      const n = ORDERS[t];
      const a = randomSpd(n), l = allocF64(n * n);
      memory.copy(l, a, <usize>(n * n) * 8);
      expect(cholesky64(n, l)).toBe(0);
      let worst: f64 = 0;
      let upperZero = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j > i && getF64(l, i * n + j) != 0) upperZero = false;
          let s: f64 = 0;
          for (let k = 0; k <= min(i, j); k++) s += getF64(l, i * n + k) * getF64(l, j * n + k);
          worst = Math.max(worst, Math.abs(s - getF64(a, i * n + j)));
        }
      }
      expect(upperZero).toBe(true);
      expect(worst).toBeLessThanOrEqual(1e-12);
      release(a); release(l);
    }
  });

  test("reports the first non-positive pivot", () => {
    // [[4, 2], [2, 1]] is singular: pivot 1 (0-based) is 0 → returns 2.
    const a = allocF64(4);
    setF64(a, 0, 4); setF64(a, 1, 2); setF64(a, 2, 2); setF64(a, 3, 1);
    expect(cholesky64(2, a)).toBe(2);
    // diag(1, 2, −3, 4) fails at pivot 2 → returns 3.
    const d = allocF64(16);
    setF64(d, 0, 1); setF64(d, 5, 2); setF64(d, 10, -3); setF64(d, 15, 4);
    expect(cholesky64(4, d)).toBe(3);
    // An indefinite 9×9 (SPD plus a large negative shift) fails somewhere.
    const b = randomSpd(9);
    for (let i = 0; i < 9; i++) setF64(b, i * 9 + i, getF64(b, i * 9 + i) - 50);
    expect(cholesky64(9, b)).toBeGreaterThan(0);
    release(a); release(d); release(b);
  });
});

describe("solveCholesky64 / invertFromCholesky64", () => {
  test("A·X = B to a small residual, for 1, 3 and 8 right-hand sides with ldb > nrhs", () => {
    const counts: i32[] = [1, 3, 8];
    for (let t = 0; t < ORDERS.length; t++) {
      for (let c = 0; c < counts.length; c++) {
        const n = ORDERS[t], nrhs = counts[c], ldb = nrhs + 2;
        const a = randomSpd(n), l = allocF64(n * n), b = allocF64(n * ldb), x = allocF64(n * ldb);
        memory.copy(l, a, <usize>(n * n) * 8);
        expect(cholesky64(n, l)).toBe(0);
        for (let i = 0; i < n * ldb; i++) setF64(b, i, <f64>rand());
        memory.copy(x, b, <usize>(n * ldb) * 8);
        solveCholesky64(n, l, nrhs, x, ldb);
        let worst: f64 = 0;
        let paddingKept = true;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < ldb; j++) {
            if (j >= nrhs) {
              if (getF64(x, i * ldb + j) != getF64(b, i * ldb + j)) paddingKept = false;
              continue;
            }
            let s: f64 = 0;
            for (let k = 0; k < n; k++) s += getF64(a, i * n + k) * getF64(x, k * ldb + j);
            worst = Math.max(worst, Math.abs(s - getF64(b, i * ldb + j)));
          }
        }
        expect(paddingKept).toBe(true);
        expect(worst).toBeLessThanOrEqual(1e-10);
        release(a); release(l); release(b); release(x);
      }
    }
  });

  test("inverse·A ≈ I and the inverse is symmetric", () => {
    for (let t = 0; t < ORDERS.length; t++) {
      const n = ORDERS[t];
      const a = randomSpd(n), l = allocF64(n * n), inv = allocF64(n * n);
      memory.copy(l, a, <usize>(n * n) * 8);
      expect(cholesky64(n, l)).toBe(0);
      invertFromCholesky64(n, l, inv);
      let worst: f64 = 0;
      let symmetric = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (getF64(inv, i * n + j) != getF64(inv, j * n + i)) symmetric = false;
          let s: f64 = 0;
          for (let k = 0; k < n; k++) s += getF64(inv, i * n + k) * getF64(a, k * n + j);
          worst = Math.max(worst, Math.abs(s - (i == j ? 1.0 : 0.0)));
        }
      }
      expect(symmetric).toBe(true);
      expect(worst).toBeLessThanOrEqual(1e-10);
      release(a); release(l); release(inv);
    }
  });
});
