// C += α·A·B in f64, cache-tiled with a 4×4 SIMD f64x2 micro-kernel: the multiply-adds of the
// blocked Cholesky factorisation and inverse (cholesky.ts). Each lane of a vector is one column
// of C and every entry's sum is taken in the same order on both paths, so the SIMD and scalar
// builds give the same bits.

// Depth of one pass (an A strip of 4 rows stays in L1) and width of one pass (a KC×NC block
// of B, 256 KiB, stays in L2).
const KC: i32 = 128;
const NC: i32 = 256;

/**
 * c[r][j] += alpha · Σ_k a(r, k)·b[k][j] for r < rows, j < cols, k < depth. a(r, k) is the f64 at
 * byte `a + r·aRow + k·aCol` (so A may be read transposed); b and c are row-major with leading
 * dimensions ldb and ldc. Order: the depth is cut into passes of KC; in each pass an entry's
 * products are summed k ascending from 0 and that sum, times alpha, is added to c.
 */
export function addProduct64(
  rows: i32, cols: i32, depth: i32, alpha: f64,
  a: usize, aRow: usize, aCol: usize, b: usize, ldb: i32, c: usize, ldc: i32,
): void {
  const bRow = <usize>ldb * 8, cRow = <usize>ldc * 8;
  for (let k0 = 0; k0 < depth; k0 += KC) {
    const kn = min(KC, depth - k0);
    const ak = a + <usize>k0 * aCol;
    const bk = b + <usize>k0 * bRow;
    for (let j0 = 0; j0 < cols; j0 += NC) {
      const j1 = min(j0 + NC, cols);
      for (let r = 0; r < rows; r += 4) {
        const rn = min(4, rows - r);
        const ar = ak + <usize>r * aRow;
        const cr = c + <usize>r * cRow;
        let j = j0;
        if (ASC_FEATURE_SIMD && rn == 4) {
          for (; j + 4 <= j1; j += 4) {
            micro4x4(kn, alpha, ar, aRow, aCol, bk + <usize>j * 8, bRow, cr + <usize>j * 8, cRow);
          }
        }
        for (; j < j1; j++) {
          for (let q = 0; q < rn; q++) {
            entry(kn, alpha, ar + <usize>q * aRow, aCol, bk + <usize>j * 8, bRow, cr + <usize>q * cRow + <usize>j * 8);
          }
        }
      }
    }
  }
}

// One entry: *c += alpha · Σ_k a[k·aCol]·b[k·bRow], k ascending.
@inline
function entry(kn: i32, alpha: f64, a: usize, aCol: usize, b: usize, bRow: usize, c: usize): void {
  let s: f64 = 0;
  for (let k = 0; k < kn; k++) {
    s += load<f64>(a + <usize>k * aCol) * load<f64>(b + <usize>k * bRow);
  }
  store<f64>(c, load<f64>(c) + alpha * s);
}

// A 4×4 block of C: eight f64x2 accumulators, each a pair of columns of one row.
@inline
function micro4x4(kn: i32, alpha: f64, a: usize, aRow: usize, aCol: usize, b: usize, bRow: usize, c: usize, cRow: usize): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  let pa = a, pb = b;
  const a1 = aRow, a2 = aRow * 2, a3 = aRow * 3;
  for (let k = 0; k < kn; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const x0 = f64x2.splat(load<f64>(pa));
    c00 = f64x2.add(c00, f64x2.mul(x0, b0));
    c01 = f64x2.add(c01, f64x2.mul(x0, b1));
    const x1 = f64x2.splat(load<f64>(pa + a1));
    c10 = f64x2.add(c10, f64x2.mul(x1, b0));
    c11 = f64x2.add(c11, f64x2.mul(x1, b1));
    const x2 = f64x2.splat(load<f64>(pa + a2));
    c20 = f64x2.add(c20, f64x2.mul(x2, b0));
    c21 = f64x2.add(c21, f64x2.mul(x2, b1));
    const x3 = f64x2.splat(load<f64>(pa + a3));
    c30 = f64x2.add(c30, f64x2.mul(x3, b0));
    c31 = f64x2.add(c31, f64x2.mul(x3, b1));
    pa += aCol;
    pb += bRow;
  }
  const al = f64x2.splat(alpha);
  addTo(c, al, c00, c01);
  addTo(c + cRow, al, c10, c11);
  addTo(c + cRow * 2, al, c20, c21);
  addTo(c + cRow * 3, al, c30, c31);
}

// c[0..4) += alpha · (lo, hi)
@inline
function addTo(c: usize, alpha: v128, lo: v128, hi: v128): void {
  v128.store(c, f64x2.add(v128.load(c), f64x2.mul(alpha, lo)));
  v128.store(c, f64x2.add(v128.load(c, 16), f64x2.mul(alpha, hi)), 16);
}
