// Compressed sparse row (CSR) storage and sparse × dense products.
// Layer inputs are mostly zeros (MNIST pixels ≈ 81%), so X·B and Xᵀ·B are
// cheaper through CSR than through the dense GEMM.
//
// CSR arrays: rowPtr i32[rows + 1], colIdx i32[nnz], vals f32[nnz]; column
// indices within a row are ascending.

/** Number of nonzero entries of the rows×cols f32 matrix `a` (row-major, leading dimension lda). */
export function csrCount(rows: i32, cols: i32, a: usize, lda: i32): i32 {
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const row = a + <usize>i * <usize>lda * 4;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      // Lane masks are -1 for nonzeros; subtracting them counts.
      let acc = i32x4.splat(0);
      const zero = f32x4.splat(0);
      for (; j + 4 <= cols; j += 4) {
        acc = i32x4.sub(acc, f32x4.ne(v128.load(row + <usize>j * 4), zero));
      }
      count += i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) +
        i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    }
    for (; j < cols; j++) {
      if (load<f32>(row + <usize>j * 4) != 0) count++;
    }
  }
  return count;
}

/** CSR of the rows×cols matrix `a`; colIdx/vals must hold csrCount(...) entries. */
export function csrFromDense(
  rows: i32, cols: i32, a: usize, lda: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
): void {
  let nnz = 0;
  store<i32>(rowPtr, 0);
  for (let i = 0; i < rows; i++) {
    const row = a + <usize>i * <usize>lda * 4;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(row + <usize>j * 4);
      if (v != 0) {
        store<i32>(colIdx + <usize>nnz * 4, j);
        store<f32>(vals + <usize>nnz * 4, v);
        nnz++;
      }
    }
    store<i32>(rowPtr + <usize>(i + 1) * 4, nnz);
  }
}

/**
 * CSR of aᵀ (cols×rows) built straight from the row-major rows×cols `a`,
 * without a dense transpose. rowPtr holds cols + 1 entries.
 */
export function csrFromDenseTransposed(
  rows: i32, cols: i32, a: usize, lda: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
): void {
  // Pass 1: nonzeros per column of a, stored one slot ahead.
  memory.fill(rowPtr, 0, <usize>(cols + 1) * 4);
  for (let i = 0; i < rows; i++) {
    const row = a + <usize>i * <usize>lda * 4;
    for (let j = 0; j < cols; j++) {
      if (load<f32>(row + <usize>j * 4) != 0) {
        const slot = rowPtr + <usize>(j + 1) * 4;
        store<i32>(slot, load<i32>(slot) + 1);
      }
    }
  }
  // Exclusive prefix sum: rowPtr[j] = start of column j, but shifted so that
  // rowPtr[j + 1] serves as column j's write cursor in pass 2.
  let running = 0;
  for (let j = 0; j < cols; j++) {
    const slot = rowPtr + <usize>(j + 1) * 4;
    const c = load<i32>(slot);
    store<i32>(slot, running);
    running += c;
  }
  // Pass 2: scatter; rows are visited in order so column indices ascend.
  // Afterwards each cursor rowPtr[j + 1] has advanced to the end of column j.
  for (let i = 0; i < rows; i++) {
    const row = a + <usize>i * <usize>lda * 4;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(row + <usize>j * 4);
      if (v != 0) {
        const slot = rowPtr + <usize>(j + 1) * 4;
        const at = load<i32>(slot);
        store<i32>(colIdx + <usize>at * 4, i);
        store<f32>(vals + <usize>at * 4, v);
        store<i32>(slot, at + 1);
      }
    }
  }
}

// Columns of B handled per pass in spmm: 6 f32x4 accumulators. V8 issues the
// 6 B loads before the arithmetic, so 6 + 6 + 1 splat = 13 of the 15
// allocatable vector registers; 8 accumulators would spill.
const SPMM_VECTORS: i32 = 6;
const SPMM_BLOCK: i32 = SPMM_VECTORS * 4;

/**
 * C (rows×n) = S · B with S in CSR (rows×k) and B dense k×n (row-major, ldb).
 * Works column block by column block so the slice of B in use stays in cache.
 */
export function spmm(
  rows: i32, n: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldb: i32,
  c: usize, ldc: i32,
): void {
  if (rows <= 0 || n <= 0) return;
  const ldbBytes = <usize>ldb * 4;
  const ldcBytes = <usize>ldc * 4;
  let j0 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j0 + SPMM_BLOCK <= n; j0 += SPMM_BLOCK) {
      spmmBlock24(rows, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes);
    }
    for (; j0 + 4 <= n; j0 += 4) {
      spmmBlock4(rows, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes);
    }
  } else {
    for (; j0 + 4 <= n; j0 += 4) {
      spmmBlock4Scalar(rows, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes);
    }
  }
  // Last < 4 columns, one at a time.
  for (; j0 < n; j0++) {
    const bCol = b + <usize>j0 * 4;
    for (let i = 0; i < rows; i++) {
      const end = load<i32>(rowPtr + <usize>(i + 1) * 4);
      let s: f32 = 0;
      for (let e = load<i32>(rowPtr + <usize>i * 4); e < end; e++) {
        s += load<f32>(vals + <usize>e * 4) * load<f32>(bCol + <usize>load<i32>(colIdx + <usize>e * 4) * ldbBytes);
      }
      store<f32>(c + <usize>i * ldcBytes + <usize>j0 * 4, s);
    }
  }
}

/** Bytes of scratch spmmPacked needs for a B with k rows (one packed column panel). */
export function spmmScratchBytes(k: i32): i32 {
  return k * SPMM_BLOCK * 4;
}

/**
 * Same result as spmm, but each 24-column slice of B is first copied into a
 * contiguous k×24 panel in `scratch` (spmmScratchBytes(k) bytes). The nonzeros
 * then gather whole cache lines from a compact panel instead of 1–2 partial
 * lines per row of a wide B: ~30% faster at N̄ = 785, M = 300.
 */
export function spmmPacked(
  rows: i32, n: i32, k: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldb: i32,
  c: usize, ldc: i32,
  scratch: usize,
): void {
  if (!ASC_FEATURE_SIMD) {
    // Without SIMD the product is compute-bound; packing buys nothing.
    spmm(rows, n, rowPtr, colIdx, vals, b, ldb, c, ldc);
    return;
  }
  if (rows <= 0 || n <= 0) return;
  const ldbBytes = <usize>ldb * 4;
  const ldcBytes = <usize>ldc * 4;
  let j0 = 0;
  for (; j0 + SPMM_BLOCK <= n; j0 += SPMM_BLOCK) {
    let src = b + <usize>j0 * 4;
    for (let p = 0; p < k; p++) {
      const dst = scratch + <usize>p * (SPMM_BLOCK * 4);
      v128.store(dst, v128.load(src), 0);
      v128.store(dst, v128.load(src, 16), 16);
      v128.store(dst, v128.load(src, 32), 32);
      v128.store(dst, v128.load(src, 48), 48);
      v128.store(dst, v128.load(src, 64), 64);
      v128.store(dst, v128.load(src, 80), 80);
      src += ldbBytes;
    }
    spmmBlock24(rows, rowPtr, colIdx, vals, scratch, SPMM_BLOCK * 4, c + <usize>j0 * 4, ldcBytes);
  }
  // Remaining < 24 columns straight from B.
  if (j0 < n) {
    spmm(rows, n - j0, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldb, c + <usize>j0 * 4, ldc);
  }
}

/**
 * The lower triangle (and the diagonal blocks) of the symmetric C (n×n) = S·B, with S = Bᵀ in
 * CSR (n×k): each block of 24 columns from its own first row down, so about half of spmmPacked's
 * work. Every entry computed is summed exactly as spmmPacked sums it (same bits); the entries
 * above the diagonal blocks are not written. For a Gram matrix X·Xᵀ read only from its lower
 * triangle (the Cholesky factorisation).
 */
export function gramLowerPacked(
  n: i32, k: i32, rowPtr: usize, colIdx: usize, vals: usize, b: usize, ldb: i32, c: usize, ldc: i32, scratch: usize,
): void {
  const ldcBytes = <usize>ldc * 4;
  for (let j0 = 0; j0 < n; j0 += SPMM_BLOCK) {
    // The last block takes every remaining column, as spmmPacked's remainder does.
    const width = n - j0 < 2 * SPMM_BLOCK ? n - j0 : SPMM_BLOCK;
    spmmPacked(n - j0, width, k, rowPtr + <usize>j0 * 4, colIdx, vals, b + <usize>j0 * 4, ldb,
      c + <usize>j0 * ldcBytes + <usize>j0 * 4, ldc, scratch);
    if (width > SPMM_BLOCK) break;
  }
}

function spmmBlock24(
  rows: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize,
): void {
  let start = load<i32>(rowPtr);
  for (let i = 0; i < rows; i++) {
    const end = load<i32>(rowPtr + <usize>(i + 1) * 4);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
    for (let e = start; e < end; e++) {
      const v = v128.load32_splat(vals + <usize>e * 4);
      const bRow = b + <usize>load<i32>(colIdx + <usize>e * 4) * ldbBytes;
      c0 = f32x4.add(c0, f32x4.mul(v, v128.load(bRow)));
      c1 = f32x4.add(c1, f32x4.mul(v, v128.load(bRow, 16)));
      c2 = f32x4.add(c2, f32x4.mul(v, v128.load(bRow, 32)));
      c3 = f32x4.add(c3, f32x4.mul(v, v128.load(bRow, 48)));
      c4 = f32x4.add(c4, f32x4.mul(v, v128.load(bRow, 64)));
      c5 = f32x4.add(c5, f32x4.mul(v, v128.load(bRow, 80)));
    }
    const cRow = c + <usize>i * ldcBytes;
    v128.store(cRow, c0); v128.store(cRow, c1, 16); v128.store(cRow, c2, 32);
    v128.store(cRow, c3, 48); v128.store(cRow, c4, 64); v128.store(cRow, c5, 80);
    start = end;
  }
}

function spmmBlock4(
  rows: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize,
): void {
  let start = load<i32>(rowPtr);
  for (let i = 0; i < rows; i++) {
    const end = load<i32>(rowPtr + <usize>(i + 1) * 4);
    let acc = f32x4.splat(0);
    for (let e = start; e < end; e++) {
      const v = v128.load32_splat(vals + <usize>e * 4);
      acc = f32x4.add(acc, f32x4.mul(v, v128.load(b + <usize>load<i32>(colIdx + <usize>e * 4) * ldbBytes)));
    }
    v128.store(c + <usize>i * ldcBytes, acc);
    start = end;
  }
}

function spmmBlock4Scalar(
  rows: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize,
): void {
  let start = load<i32>(rowPtr);
  for (let i = 0; i < rows; i++) {
    const end = load<i32>(rowPtr + <usize>(i + 1) * 4);
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let e = start; e < end; e++) {
      const v = load<f32>(vals + <usize>e * 4);
      const bRow = b + <usize>load<i32>(colIdx + <usize>e * 4) * ldbBytes;
      s0 += v * load<f32>(bRow); s1 += v * load<f32>(bRow, 4);
      s2 += v * load<f32>(bRow, 8); s3 += v * load<f32>(bRow, 12);
    }
    const cRow = c + <usize>i * ldcBytes;
    store<f32>(cRow, s0); store<f32>(cRow, s1, 4); store<f32>(cRow, s2, 8); store<f32>(cRow, s3, 12);
    start = end;
  }
}
