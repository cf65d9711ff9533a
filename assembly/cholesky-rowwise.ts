// The row-wise Cholesky factorisation and inverse the blocked kernels of cholesky.ts replaced:
// kept as the plain reference the tests and bench:big compare them with (not used by the solver).
// Row-major storage makes rows of L contiguous, so the row-oriented (Cholesky–Banachiewicz) order
// turns every inner loop into a contiguous dot product; four rows are factored together so each
// row of L read from cache serves four dot products.
import { scaleRow, subtractScaledRow, subtractScaledRows4 } from "./rows64";
/**
 * In place: the lower triangle of the SPD n×n f64 matrix `a` (row-major) is
 * replaced by L with L·Lᵀ = A, and the strict upper triangle is zeroed. Only
 * the lower triangle of the input is read. Returns 0 on success, or j + 1 if
 * pivot j is not positive (matrix not numerically SPD; `a` is then partly overwritten).
 */
export function cholesky64Rowwise(n: i32, a: usize): i32 {
  const rowBytes = <usize>n * 8;
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = min(4, n - i0);
    const r0 = a + <usize>i0 * rowBytes;
    // Entries left of the diagonal block: L[i][j] = (A[i][j] − L[i]·L[j]) / L[j][j].
    for (let j = 0; j < i0; j++) {
      const lj = a + <usize>j * rowBytes;
      const inv = 1.0 / load<f64>(lj + <usize>j * 8);
      const at = <usize>j * 8;
      if (rows == 4) {
        dot4Into(j, lj, r0, rowBytes, inv, at);
      } else {
        for (let r = 0; r < rows; r++) {
          const li = r0 + <usize>r * rowBytes;
          store<f64>(li + at, (load<f64>(li + at) - dotF64(j, li, lj)) * inv);
        }
      }
    }
    // The diagonal block itself, row by row.
    for (let i = i0; i < i0 + rows; i++) {
      const li = a + <usize>i * rowBytes;
      for (let j = i0; j <= i; j++) {
        const lj = a + <usize>j * rowBytes;
        const s = load<f64>(li + <usize>j * 8) - dotF64(j, li, lj);
        if (i == j) {
          if (!(s > 0)) return j + 1; // also catches NaN
          store<f64>(li + <usize>j * 8, Math.sqrt(s));
        } else {
          store<f64>(li + <usize>j * 8, s / load<f64>(lj + <usize>j * 8));
        }
      }
    }
  }
  for (let i = 0; i < n - 1; i++) {
    memory.fill(a + <usize>i * rowBytes + <usize>(i + 1) * 8, 0, <usize>(n - 1 - i) * 8);
  }
  return 0;
}

// For the four rows starting at r0: row[at] = (row[at] − row[0..len)·lj[0..len)) · inv.
@inline
function dot4Into(len: i32, lj: usize, r0: usize, rowBytes: usize, inv: f64, at: usize): void {
  const r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
  let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    let v0 = f64x2.splat(0), v1 = f64x2.splat(0), v2 = f64x2.splat(0), v3 = f64x2.splat(0);
    for (; k + 2 <= len; k += 2) {
      const off = <usize>k * 8;
      const l = v128.load(lj + off);
      v0 = f64x2.add(v0, f64x2.mul(v128.load(r0 + off), l));
      v1 = f64x2.add(v1, f64x2.mul(v128.load(r1 + off), l));
      v2 = f64x2.add(v2, f64x2.mul(v128.load(r2 + off), l));
      v3 = f64x2.add(v3, f64x2.mul(v128.load(r3 + off), l));
    }
    s0 = f64x2.extract_lane(v0, 0) + f64x2.extract_lane(v0, 1);
    s1 = f64x2.extract_lane(v1, 0) + f64x2.extract_lane(v1, 1);
    s2 = f64x2.extract_lane(v2, 0) + f64x2.extract_lane(v2, 1);
    s3 = f64x2.extract_lane(v3, 0) + f64x2.extract_lane(v3, 1);
  }
  for (; k < len; k++) {
    const off = <usize>k * 8;
    const l = load<f64>(lj + off);
    s0 += load<f64>(r0 + off) * l;
    s1 += load<f64>(r1 + off) * l;
    s2 += load<f64>(r2 + off) * l;
    s3 += load<f64>(r3 + off) * l;
  }
  store<f64>(r0 + at, (load<f64>(r0 + at) - s0) * inv);
  store<f64>(r1 + at, (load<f64>(r1 + at) - s1) * inv);
  store<f64>(r2 + at, (load<f64>(r2 + at) - s2) * inv);
  store<f64>(r3 + at, (load<f64>(r3 + at) - s3) * inv);
}

// x[0..len) · y[0..len), both contiguous f64.
function dotF64(len: i32, x: usize, y: usize): f64 {
  let s: f64 = 0;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f64x2.splat(0);
    for (; k + 2 <= len; k += 2) {
      const off = <usize>k * 8;
      v = f64x2.add(v, f64x2.mul(v128.load(x + off), v128.load(y + off)));
    }
    s = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  }
  for (; k < len; k++) s += load<f64>(x + <usize>k * 8) * load<f64>(y + <usize>k * 8);
  return s;
}

/**
 * out (n×n f64) = (L Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, exactly symmetric, for the factor from cholesky64Rowwise. `l` is
 * overwritten by L⁻¹ (lower triangular) on the way; `out` must not overlap it. About n³/3
 * multiply-adds, a third of solving L Lᵀ X = I column by column.
 */
export function invertFromCholesky64Rowwise(n: i32, l: usize, out: usize): void {
  if (n <= 0) return;
  invertLowerInPlace(n, l);
  lowerGramOfRows(n, l, out);
}

/**
 * L ← L⁻¹ in place. Row i of Y = L⁻¹ is (e_i − Σ_{k<i} L[i][k]·Y[k]) / L[i][i], and row k of Y is
 * zero beyond column k: row i is built in its own storage, each L[i][k] read just before that
 * position becomes part of the sum.
 */
function invertLowerInPlace(n: i32, l: usize): void {
  const rowBytes = <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const yi = l + <usize>i * rowBytes;
    const diag = load<f64>(yi + <usize>i * 8);
    let k = 0;
    for (; k + 4 <= i; k += 4) {
      const at = yi + <usize>k * 8;
      const s0 = load<f64>(at), s1 = load<f64>(at, 8), s2 = load<f64>(at, 16), s3 = load<f64>(at, 24);
      store<f64>(at, 0); store<f64>(at, 0, 8); store<f64>(at, 0, 16); store<f64>(at, 0, 24);
      const yk = l + <usize>k * rowBytes;
      subtractScaledRows4(k + 4, s0, s1, s2, s3, yk, yk + rowBytes, yk + 2 * rowBytes, yk + 3 * rowBytes, yi);
    }
    for (; k < i; k++) {
      const at = yi + <usize>k * 8;
      const s = load<f64>(at);
      store<f64>(at, 0);
      subtractScaledRow(k + 1, s, l + <usize>k * rowBytes, yi);
    }
    const inv = 1.0 / diag;
    scaleRow(i, inv, yi);
    store<f64>(yi + <usize>i * 8, inv);
  }
}

/**
 * out = YᵀY for a lower-triangular Y (row-major): out[i][j] = Σ_{k ≥ max(i,j)} Y[k][i]·Y[k][j].
 * Four rows of out at a time, so each row of Y is read once per four: rows i..i+3 take
 * Y[k][0..i+3]·(Y[k][i..i+3]) for every k ≥ i; then the upper triangle is mirrored.
 */
function lowerGramOfRows(n: i32, y: usize, out: usize): void {
  const rowBytes = <usize>n * 8;
  memory.fill(out, 0, <usize>n * rowBytes);
  for (let i = 0; i < n; i += 4) {
    const rows = min(4, n - i);
    const o0 = out + <usize>i * rowBytes;
    for (let k = i; k < n; k++) {
      const yk = y + <usize>k * rowBytes;
      const len = min(i + rows, k + 1);
      if (rows == 4) {
        const c = yk + <usize>i * 8;
        addScaledRowTo4(len, load<f64>(c), load<f64>(c, 8), load<f64>(c, 16), load<f64>(c, 24),
          yk, o0, o0 + rowBytes, o0 + 2 * rowBytes, o0 + 3 * rowBytes);
      } else {
        for (let r = 0; r < rows; r++) {
          subtractScaledRow(min(len, i + r + 1), -load<f64>(yk + <usize>(i + r) * 8), yk, o0 + <usize>r * rowBytes);
        }
      }
    }
  }
  // Rows i..i+3 were filled up to column i+3: keep the strict lower triangle, mirror it up.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) store<f64>(out + <usize>j * rowBytes + <usize>i * 8, load<f64>(out + <usize>i * rowBytes + <usize>j * 8));
  }
}

// dst_r[0..len) += s_r · src[0..len) for four destination rows.
@inline
function addScaledRowTo4(
  len: i32, s0: f64, s1: f64, s2: f64, s3: f64, src: usize, d0: usize, d1: usize, d2: usize, d3: usize,
): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const v0 = f64x2.splat(s0), v1 = f64x2.splat(s1), v2 = f64x2.splat(s2), v3 = f64x2.splat(s3);
    for (; k + 2 <= len; k += 2) {
      const off = <usize>k * 8;
      const x = v128.load(src + off);
      v128.store(d0 + off, f64x2.add(v128.load(d0 + off), f64x2.mul(v0, x)));
      v128.store(d1 + off, f64x2.add(v128.load(d1 + off), f64x2.mul(v1, x)));
      v128.store(d2 + off, f64x2.add(v128.load(d2 + off), f64x2.mul(v2, x)));
      v128.store(d3 + off, f64x2.add(v128.load(d3 + off), f64x2.mul(v3, x)));
    }
  }
  for (; k < len; k++) {
    const off = <usize>k * 8;
    const x = load<f64>(src + off);
    store<f64>(d0 + off, load<f64>(d0 + off) + s0 * x);
    store<f64>(d1 + off, load<f64>(d1 + off) + s1 * x);
    store<f64>(d2 + off, load<f64>(d2 + off) + s2 * x);
    store<f64>(d3 + off, load<f64>(d3 + off) + s3 * x);
  }
}
