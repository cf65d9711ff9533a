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
      spmmBlock24(rows, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes, 0, WHOLE_ROW, 0);
    }
    for (; j0 + 4 <= n; j0 += 4) {
      spmmBlock4(rows, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes, 0, WHOLE_ROW, 0, false);
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

// Rows of B per packed panel piece when B is cut: 512 × 24 f32 = 48 KB. The nonzeros of a long
// row of S (X·B: one feature over P samples) gather from all over the panel; a whole-k panel
// (768 KB at k = P = 8000) made X·B take twice the time of Xt·W for the same flops. Cutting B
// costs a reload and store of C's rows per piece, cheap when C's slice is small (X·B, Gram:
// N̄ rows) and not when it is big (Xt·W: P rows, measured 1.5× slower cut), hence the limits.
const SPMM_K_BLOCK: i32 = 512;
const SPMM_CUT_ABOVE_K: i32 = 2 * SPMM_K_BLOCK;
const SPMM_CUT_MAX_ROWS: i32 = 4096;

/** Rows of B per packed piece for S with `rows` rows and B with k rows: k (one piece) or 512. */
function panelHeight(rows: i32, k: i32): i32 {
  return k > SPMM_CUT_ABOVE_K && rows <= SPMM_CUT_MAX_ROWS ? SPMM_K_BLOCK : k;
}

/**
 * Bytes of scratch spmmPacked needs when S has at most `size` rows and B at most `size` rows:
 * one packed panel, and when B is cut into pieces, a cursor per row of S.
 */
export function spmmScratchBytes(size: i32): i32 {
  return size * SPMM_BLOCK * 4 + (size > SPMM_CUT_ABOVE_K ? min(size, SPMM_CUT_MAX_ROWS) * 4 : 0);
}

/**
 * Same result as spmm, bit for bit, but each slice of 24 columns of B (and the remaining groups
 * of 4) is copied into a compact panel in `scratch`, cut into pieces of 512 rows when B is tall
 * and S has few rows, so that it stays in cache: the nonzeros then gather whole cache lines from
 * it instead of 1–2 partial lines per row of a wide B.
 */
export function spmmPacked(
  rows: i32, n: i32, k: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldb: i32,
  c: usize, ldc: i32,
  scratch: usize,
): void {
  spmmPackedBlocked(rows, n, k, rowPtr, colIdx, vals, b, ldb, c, ldc, scratch, panelHeight(rows, k));
}

/**
 * spmmPacked with the panel height kBlock as a parameter, for tests and benchmarks; scratch:
 * min(k, kBlock)·96 bytes, and rows·4 more when k > kBlock (kBlock ≥ k: the single whole-k panel
 * of session 5). Each entry of C is summed in ascending k whatever kBlock is: the sum is stored
 * after one piece and reloaded for the next, and an f32 store and load are exact, so every
 * kBlock gives the same bits.
 */
export function spmmPackedBlocked(
  rows: i32, n: i32, k: i32,
  rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldb: i32,
  c: usize, ldc: i32,
  scratch: usize, kBlock: i32,
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
    packedPanelProduct(rows, k, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes, scratch, kBlock, SPMM_VECTORS);
  }
  // Remaining columns in groups of 4, packed the same way; the last < 4 straight from B.
  const vectors = (n - j0) >> 2;
  if (vectors > 0) {
    packedPanelProduct(rows, k, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldbBytes, c + <usize>j0 * 4, ldcBytes, scratch, kBlock, vectors);
    j0 += vectors * 4;
  }
  if (j0 < n) {
    spmm(rows, n - j0, rowPtr, colIdx, vals, b + <usize>j0 * 4, ldb, c + <usize>j0 * 4, ldc);
  }
}

/**
 * C (rows×4·vectors) = S·B for one slice of `vectors` × 4 columns (at most 6) of B, copied kBlock
 * rows at a time into `scratch` (rows 96 bytes apart) and multiplied from there; each row's
 * cursor (after the panel) keeps where its nonzeros of the next piece start.
 */
function packedPanelProduct(
  rows: i32, k: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize, scratch: usize, kBlock: i32, vectors: i32,
): void {
  const panelRow: usize = SPMM_BLOCK * 4;
  let src = b;
  let k0 = 0;
  do {
    const k1 = k - k0 <= kBlock ? k : k0 + kBlock;
    for (let p = k0; p < k1; p++) {
      const dst = scratch + <usize>(p - k0) * panelRow;
      for (let q = 0; q < vectors; q++) v128.store(dst + <usize>q * 16, v128.load(src + <usize>q * 16));
      src += ldbBytes;
    }
    // Shifted so that row p of B is at panel + p·96 (wasm32 addresses wrap modulo 2³²).
    const panel = scratch - <usize>k0 * panelRow;
    const cursor = scratch + <usize>min(k, kBlock) * panelRow;
    const last = k1 == k ? WHOLE_ROW : k1;
    if (vectors == SPMM_VECTORS) {
      spmmBlock24(rows, rowPtr, colIdx, vals, panel, panelRow, c, ldcBytes, k0, last, cursor);
    } else {
      for (let q = 0; q < vectors; q++) {
        spmmBlock4(rows, rowPtr, colIdx, vals, panel + <usize>q * 16, panelRow, c + <usize>q * 16, ldcBytes, k0, last, cursor, q == vectors - 1);
      }
    }
    k0 = k1;
  } while (k0 < k);
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

// spmmBlock24's k range ends at the end of each row.
const WHOLE_ROW: i32 = i32.MAX_VALUE;

/**
 * C (rows×24) = S·B over the nonzeros of S with column < k1, from entry cursor[i] of each row i
 * on: from zero when k0 = 0, else added to the C stored by the previous range, in the order a
 * single pass would add them. cursor[i] is then advanced past the range (cursor = 0: no cursors,
 * whole rows). k1 = WHOLE_ROW takes the rest of each row.
 */
function spmmBlock24(
  rows: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize, k0: i32, k1: i32, cursor: usize,
): void {
  let rowStart = load<i32>(rowPtr);
  for (let i = 0; i < rows; i++) {
    const rowEnd = load<i32>(rowPtr + <usize>(i + 1) * 4);
    const cRow = c + <usize>i * ldcBytes;
    let e = k0 == 0 ? rowStart : load<i32>(cursor + <usize>i * 4);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
    if (k0 != 0) {
      c0 = v128.load(cRow); c1 = v128.load(cRow, 16); c2 = v128.load(cRow, 32);
      c3 = v128.load(cRow, 48); c4 = v128.load(cRow, 64); c5 = v128.load(cRow, 80);
    }
    for (; e < rowEnd; e++) {
      const col = load<i32>(colIdx + <usize>e * 4);
      if (col >= k1) break;
      const v = v128.load32_splat(vals + <usize>e * 4);
      const bRow = b + <usize>col * ldbBytes;
      c0 = f32x4.add(c0, f32x4.mul(v, v128.load(bRow)));
      c1 = f32x4.add(c1, f32x4.mul(v, v128.load(bRow, 16)));
      c2 = f32x4.add(c2, f32x4.mul(v, v128.load(bRow, 32)));
      c3 = f32x4.add(c3, f32x4.mul(v, v128.load(bRow, 48)));
      c4 = f32x4.add(c4, f32x4.mul(v, v128.load(bRow, 64)));
      c5 = f32x4.add(c5, f32x4.mul(v, v128.load(bRow, 80)));
    }
    if (k1 != WHOLE_ROW) store<i32>(cursor + <usize>i * 4, e);
    v128.store(cRow, c0); v128.store(cRow, c1, 16); v128.store(cRow, c2, 32);
    v128.store(cRow, c3, 48); v128.store(cRow, c4, 64); v128.store(cRow, c5, 80);
    rowStart = rowEnd;
  }
}

/** spmmBlock24 for 4 columns. */
function spmmBlock4(
  rows: i32, rowPtr: usize, colIdx: usize, vals: usize,
  b: usize, ldbBytes: usize, c: usize, ldcBytes: usize, k0: i32, k1: i32, cursor: usize, advance: bool,
): void {
  let rowStart = load<i32>(rowPtr);
  for (let i = 0; i < rows; i++) {
    const rowEnd = load<i32>(rowPtr + <usize>(i + 1) * 4);
    const cRow = c + <usize>i * ldcBytes;
    let e = k0 == 0 ? rowStart : load<i32>(cursor + <usize>i * 4);
    let acc = k0 == 0 ? f32x4.splat(0) : v128.load(cRow);
    for (; e < rowEnd; e++) {
      const col = load<i32>(colIdx + <usize>e * 4);
      if (col >= k1) break;
      acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(vals + <usize>e * 4), v128.load(b + <usize>col * ldbBytes)));
    }
    if (advance && k1 != WHOLE_ROW) store<i32>(cursor + <usize>i * 4, e);
    v128.store(cRow, acc);
    rowStart = rowEnd;
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

