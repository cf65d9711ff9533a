import { cgWorkBytes, cgSolveDense, cgSolveGram, cgSolveGramCsr } from "../../assembly/cg";
import { cholesky64, solveCholesky64 } from "../../assembly/cholesky";
import { gemmScratchBytes } from "../../assembly/gemm";
import { csrCount, csrFromDense, csrFromDenseTransposed } from "../../assembly/sparse";
import { transpose } from "../../assembly/transpose";
import { allocBytes, allocF32, allocF64, fillRandom, getF32, getF64, release, setF32, setF64 } from "./helpers";

// Reference: solve (X·Xᵀ + I) S = B by Cholesky in f64. Returns S (n×nrhs f64).
function referenceSolve(n: i32, p: i32, xm: usize, nrhs: i32, b: usize): usize {
  const g = allocF64(n * n), s = allocF64(n * nrhs);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v: f64 = i == j ? 1.0 : 0.0;
      for (let k = 0; k < p; k++) v += <f64>getF32(xm, i * p + k) * <f64>getF32(xm, j * p + k);
      setF64(g, i * n + j, v);
    }
  }
  cholesky64(n, g);
  for (let i = 0; i < n * nrhs; i++) setF64(s, i, <f64>getF32(b, i));
  solveCholesky64(n, g, nrhs, s, nrhs);
  release(g);
  return s;
}

// Largest |x − ref| relative to max |ref|.
function relError(count: i32, x: usize, ref: usize): f64 {
  let worst: f64 = 0, scale: f64 = 0;
  for (let i = 0; i < count; i++) {
    worst = Math.max(worst, Math.abs(<f64>getF32(x, i) - getF64(ref, i)));
    scale = Math.max(scale, Math.abs(getF64(ref, i)));
  }
  return worst / scale;
}

describe("conjugate gradient", () => {
  test("dense G, Gram of dense X and Gram of CSR X all match the Cholesky solve", () => {
    const shapes: i32[] = [1, 4, 2, 5, 3, 17, 17, 40, 33, 60];
    for (let t = 0; t < shapes.length; t += 2) {
      const n = shapes[t], p = shapes[t + 1], nrhs = 3;
      const xm = allocF32(n * p), xt = allocF32(p * n), b = allocF32(n * nrhs), x = allocF32(n * nrhs);
      fillRandom(xm, n * p, 0.4);
      for (let i = 0; i < n * p; i++) setF32(xm, i, getF32(xm, i) * 0.5);
      transpose(n, p, xm, p, xt, n);
      fillRandom(b, n * nrhs);
      const ref = referenceSolve(n, p, xm, nrhs, b);
      const scratch = allocBytes(gemmScratchBytes());
      const work = allocBytes(cgWorkBytes(n, p, nrhs));

      // Dense G = X·Xᵀ formed in f32.
      const g = allocF32(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let v: f64 = 0;
          for (let k = 0; k < p; k++) v += <f64>getF32(xm, i * p + k) * <f64>getF32(xm, j * p + k);
          setF32(g, i * n + j, <f32>v);
        }
      }
      memory.fill(x, 0, <usize>(n * nrhs) * 4);
      const itDense = cgSolveDense(n, g, n, nrhs, b, nrhs, x, nrhs, 1e-6, 500, work, scratch);
      expect(itDense).toBeGreaterThan(0);
      expect(itDense).toBeLessThan(500);
      expect(relError(n * nrhs, x, ref)).toBeLessThanOrEqual(1e-4);

      memory.fill(x, 0, <usize>(n * nrhs) * 4);
      const itGram = cgSolveGram(n, p, xm, p, xt, n, nrhs, b, nrhs, x, nrhs, 1e-6, 500, work, scratch);
      expect(itGram).toBeLessThan(500);
      expect(relError(n * nrhs, x, ref)).toBeLessThanOrEqual(1e-4);

      const nnz = csrCount(n, p, xm, p);
      const rp = allocF32(n + 1), ci = allocF32(nnz), vs = allocF32(nnz);
      const rpT = allocF32(p + 1), ciT = allocF32(nnz), vsT = allocF32(nnz);
      csrFromDense(n, p, xm, p, rp, ci, vs);
      csrFromDenseTransposed(n, p, xm, p, rpT, ciT, vsT);
      memory.fill(x, 0, <usize>(n * nrhs) * 4);
      const itCsr = cgSolveGramCsr(n, p, rp, ci, vs, rpT, ciT, vsT, nrhs, b, nrhs, x, nrhs, 1e-6, 500, work);
      expect(itCsr).toBeLessThan(500);
      expect(relError(n * nrhs, x, ref)).toBeLessThanOrEqual(1e-4);

      // Warm start from the solution: converges (almost) immediately.
      const itWarm = cgSolveGramCsr(n, p, rp, ci, vs, rpT, ciT, vsT, nrhs, b, nrhs, x, nrhs, 1e-4, 500, work);
      expect(itWarm).toBeLessThanOrEqual(1);

      // maxIter is respected and the iteration count is returned.
      memory.fill(x, 0, <usize>(n * nrhs) * 4);
      if (n > 3) expect(cgSolveGram(n, p, xm, p, xt, n, nrhs, b, nrhs, x, nrhs, 1e-12, 2, work, scratch)).toBe(2);

      release(xm); release(xt); release(b); release(x); release(ref); release(scratch); release(work);
      release(g); release(rp); release(ci); release(vs); release(rpT); release(ciT); release(vsT);
    }
  });

  test("leading dimensions of B and X are honoured", () => {
    const n = 9, p = 12, nrhs = 2, ldb = 5, ldx = 4;
    const xm = allocF32(n * p), xt = allocF32(p * n), b = allocF32(n * ldb), x = allocF32(n * ldx);
    const bc = allocF32(n * nrhs), xc = allocF32(n * nrhs);
    fillRandom(xm, n * p);
    transpose(n, p, xm, p, xt, n);
    fillRandom(b, n * ldb);
    for (let i = 0; i < n; i++) for (let j = 0; j < nrhs; j++) setF32(bc, i * nrhs + j, getF32(b, i * ldb + j));
    for (let i = 0; i < n * ldx; i++) setF32(x, i, 42);
    for (let i = 0; i < n; i++) for (let j = 0; j < nrhs; j++) setF32(x, i * ldx + j, 0);
    const ref = referenceSolve(n, p, xm, nrhs, bc);
    const scratch = allocBytes(gemmScratchBytes());
    const work = allocBytes(cgWorkBytes(n, p, nrhs));
    cgSolveGram(n, p, xm, p, xt, n, nrhs, b, ldb, x, ldx, 1e-7, 200, work, scratch);
    let paddingKept = true;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ldx; j++) {
        if (j < nrhs) setF32(xc, i * nrhs + j, getF32(x, i * ldx + j));
        else if (getF32(x, i * ldx + j) != 42) paddingKept = false;
      }
    }
    expect(paddingKept).toBe(true);
    expect(relError(n * nrhs, xc, ref)).toBeLessThanOrEqual(1e-4);
    release(xm); release(xt); release(b); release(x); release(bc); release(xc); release(ref);
    release(scratch); release(work);
  });
});
