import { gemm, gemmScratchBytes } from "../../assembly/gemm";
import { SIZES, allocBytes, allocF32, fillRandom, getF32, release, setF32 } from "./helpers";

// Sentinel written into the padding columns of C; gemm must not touch it.
const SENTINEL: f32 = 12345.0;

// Runs gemm on random data with padded leading dimensions and returns the
// largest error relative to Σ|a||b| + |c₀| against an f64 naive loop.
// Returns a huge value if a padding column was written.
function gemmError(m: i32, n: i32, k: i32, accumulate: i32): f64 {
  const lda = k + 3, ldb = n + 1, ldc = n + 2;
  const a = allocF32(m * lda), b = allocF32(k * ldb), c = allocF32(m * ldc), c0 = allocF32(m * ldc);
  const scratch = allocBytes(gemmScratchBytes());
  fillRandom(a, m * lda);
  fillRandom(b, k * ldb);
  fillRandom(c, m * ldc);
  for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) setF32(c, i * ldc + j, SENTINEL);
  memory.copy(c0, c, <usize>(m * ldc) * 4);

  gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);

  let worst: f64 = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < ldc; j++) {
      const got = <f64>getF32(c, i * ldc + j);
      if (j >= n) {
        if (got != <f64>SENTINEL) worst = Infinity;
        continue;
      }
      let ref: f64 = accumulate != 0 ? <f64>getF32(c0, i * ldc + j) : 0;
      let mag: f64 = Math.abs(ref);
      for (let p = 0; p < k; p++) {
        const t = <f64>getF32(a, i * lda + p) * <f64>getF32(b, p * ldb + j);
        ref += t;
        mag += Math.abs(t);
      }
      worst = Math.max(worst, Math.abs(got - ref) / (mag + 1e-30));
    }
  }
  release(a); release(b); release(c); release(c0); release(scratch);
  return worst;
}

describe("gemm", () => {
  test("scratch size is fixed and positive", () => {
    expect(gemmScratchBytes()).toBeGreaterThan(0);
  });

  test("all small shapes from {0,1,2,3,5,17}³, both accumulate modes", () => {
    for (let im = 0; im < SIZES.length; im++) {
      for (let in_ = 0; in_ < SIZES.length; in_++) {
        for (let ik = 0; ik < SIZES.length; ik++) {
          for (let acc = 0; acc < 2; acc++) {
            const err = gemmError(SIZES[im], SIZES[in_], SIZES[ik], acc);
            if (err > 1e-5) {
              trace("gemm error", 5, <f64>SIZES[im], <f64>SIZES[in_], <f64>SIZES[ik], <f64>acc, err);
            }
            expect(err).toBeLessThanOrEqual(1e-5);
          }
        }
      }
    }
  });

  test("67×45×131 overwrite and accumulate", () => {
    expect(gemmError(67, 45, 131, 0)).toBeLessThanOrEqual(1e-5);
    expect(gemmError(67, 45, 131, 1)).toBeLessThanOrEqual(1e-5);
  });

  test("shapes crossing every cache-block boundary (MC, NC, several KC)", () => {
    expect(gemmError(133, 1030, 530, 0)).toBeLessThanOrEqual(1e-5);
    expect(gemmError(258, 37, 257, 1)).toBeLessThanOrEqual(1e-5);
  });

  test("k = 0 zeroes C, or leaves it when accumulating", () => {
    const c = allocF32(6);
    const scratch = allocBytes(gemmScratchBytes());
    for (let i = 0; i < 6; i++) setF32(c, i, 7);
    gemm(2, 3, 0, 0, 0, 0, 3, c, 3, 1, scratch);
    expect(getF32(c, 4)).toBe(<f32>7);
    gemm(2, 3, 0, 0, 0, 0, 3, c, 3, 0, scratch);
    for (let i = 0; i < 6; i++) expect(getF32(c, i)).toBe(<f32>0);
    release(c); release(scratch);
  });
});
