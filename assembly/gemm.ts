// Dense f32 GEMM: C (m×n) = A (m×k) · B (k×n) [+ C], all row-major.
//
// BLIS-style structure: B is packed into KC×NR column panels, A into MR×KC
// row panels, and a register-blocked MR×NR micro-kernel streams both packed
// panels. Packing pads partial panels with zeros so the micro-kernel always
// runs a full tile; partial tiles are written through a small scratch tile.
// The same source builds with and without SIMD via ASC_FEATURE_SIMD.

// Micro-tile: 4 rows × 8 columns = 8 f32x4 accumulators. V8 (TurboFan)
// issues all of an iteration's loads before the arithmetic, so 4 broadcasts
// + 2 B vectors + 8 accumulators = 14 registers must be live at once; V8 has
// 15 allocatable xmm registers on x86-64. A 5×8 tile needs 17 and spills
// accumulators, which measured ~20 GFLOP/s against ~39 for this 4×8 tile.
const MR: i32 = 4;
const NR: i32 = 8;
// Cache blocks: a KC×NR packed B panel (8 KiB) stays in L1, the MC×KC packed
// A block (128 KiB) in L2, the KC×NC packed B block (~1 MiB) in L2/L3.
const KC: i32 = 256;
const MC: i32 = 128; // multiple of MR
const NC: i32 = 1024; // multiple of NR

const PACKED_A_FLOATS: i32 = MC * KC;
const PACKED_B_FLOATS: i32 = KC * NC;
const TILE_FLOATS: i32 = MR * NR;

/** Bytes of scratch `gemm` needs (fixed, independent of the problem size; pass a 16-byte aligned pointer). */
export function gemmScratchBytes(): i32 {
  return (PACKED_A_FLOATS + PACKED_B_FLOATS + TILE_FLOATS) * 4;
}

/**
 * C (m×n) = A (m×k) · B (k×n), plus the old C when `accumulate` != 0.
 * Leading dimensions are in elements. `scratch` must hold gemmScratchBytes().
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32,
  b: usize, ldb: i32,
  c: usize, ldc: i32,
  accumulate: i32,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    // Empty sum: C = 0 (or left unchanged when accumulating).
    if (accumulate == 0) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>i * <usize>ldc * 4, 0, <usize>n * 4);
    }
    return;
  }
  const packedA = scratch;
  const packedB = scratch + <usize>PACKED_A_FLOATS * 4;
  const tile = packedB + <usize>PACKED_B_FLOATS * 4;

  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      // Only the first K block may overwrite C; later ones add to it.
      const addToC = accumulate != 0 || pc > 0;
      packB(kc, nc, b + (<usize>pc * <usize>ldb + <usize>jc) * 4, ldb, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(mc, kc, a + (<usize>ic * <usize>lda + <usize>pc) * 4, lda, packedA);
        macroKernel(mc, nc, kc, packedA, packedB,
          c + (<usize>ic * <usize>ldc + <usize>jc) * 4, ldc, addToC, tile);
      }
    }
  }
}

// Packs A's mc×kc block into ceil(mc/MR) panels, each kc groups of MR floats
// (one column of the panel per group), zero-padding the last panel.
function packA(mc: i32, kc: i32, a: usize, lda: i32, dst: usize): void {
  const rowStride = <usize>lda * 4;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const src = a + <usize>i0 * rowStride;
    if (rows == MR) {
      const r0 = src, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride;
      for (let p = 0; p < kc; p++) {
        const off = <usize>p * 4;
        const d = dst + <usize>p * (MR * 4);
        store<f32>(d, load<f32>(r0 + off), 0);
        store<f32>(d, load<f32>(r1 + off), 4);
        store<f32>(d, load<f32>(r2 + off), 8);
        store<f32>(d, load<f32>(r3 + off), 12);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>p * (MR * 4);
        for (let r = 0; r < MR; r++) {
          store<f32>(d + <usize>r * 4, r < rows ? load<f32>(src + <usize>r * rowStride + <usize>p * 4) : 0);
        }
      }
    }
    dst += <usize>kc * (MR * 4);
  }
}

// Packs B's kc×nc block into ceil(nc/NR) panels, each kc rows of NR floats,
// zero-padding the last panel.
function packB(kc: i32, nc: i32, b: usize, ldb: i32, dst: usize): void {
  const rowStride = <usize>ldb * 4;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    let src = b + <usize>j0 * 4;
    if (cols == NR) {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>p * (NR * 4);
        if (ASC_FEATURE_SIMD) {
          v128.store(d, v128.load(src), 0);
          v128.store(d, v128.load(src, 16), 16);
        } else {
          store<u64>(d, load<u64>(src), 0);
          store<u64>(d, load<u64>(src, 8), 8);
          store<u64>(d, load<u64>(src, 16), 16);
          store<u64>(d, load<u64>(src, 24), 24);
        }
        src += rowStride;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>p * (NR * 4);
        for (let j = 0; j < NR; j++) {
          store<f32>(d + <usize>j * 4, j < cols ? load<f32>(src + <usize>j * 4) : 0);
        }
        src += rowStride;
      }
    }
    dst += <usize>kc * (NR * 4);
  }
}

// Runs the micro-kernel over every MR×NR tile of an mc×nc block of C.
function macroKernel(
  mc: i32, nc: i32, kc: i32,
  packedA: usize, packedB: usize,
  c: usize, ldc: i32, addToC: bool, tile: usize,
): void {
  const ldcBytes = <usize>ldc * 4;
  const panelABytes = <usize>kc * (MR * 4);
  const panelBBytes = <usize>kc * (NR * 4);
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const pb = packedB + <usize>(j0 / NR) * panelBBytes;
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const rows = min(MR, mc - i0);
      const pa = packedA + <usize>(i0 / MR) * panelABytes;
      const cTile = c + <usize>i0 * ldcBytes + <usize>j0 * 4;
      if (rows == MR && cols == NR) {
        microKernel(kc, pa, pb, cTile, ldcBytes, addToC);
      } else {
        // Edge tile: compute the full padded tile into scratch, copy the valid part.
        microKernel(kc, pa, pb, tile, NR * 4, false);
        for (let r = 0; r < rows; r++) {
          const dst = cTile + <usize>r * ldcBytes;
          const src = tile + <usize>r * (NR * 4);
          for (let j = 0; j < cols; j++) {
            const off = <usize>j * 4;
            const v = load<f32>(src + off);
            store<f32>(dst + off, addToC ? load<f32>(dst + off) + v : v);
          }
        }
      }
    }
  }
}

@inline
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  if (ASC_FEATURE_SIMD) {
    microKernelSimd(kc, pa, pb, c, ldcBytes, addToC);
  } else {
    // Scalar floats share the same 15 registers: do the tile as four 4×2 strips.
    for (let j = 0; j < NR; j += 2) {
      microKernelScalar(kc, pa, pb + <usize>j * 4, c + <usize>j * 4, ldcBytes, addToC);
    }
  }
}

// 4×8 tile in eight f32x4 accumulators; A values are broadcast from the
// packed panel, B rows loaded as two vectors. Plain mul + add (no relaxed-SIMD
// FMA) so it runs everywhere SIMD128 does.
function microKernelSimd(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const paEnd = pa + <usize>kc * (MR * 4);
  while (pa < paEnd) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa, 4);
    const a2 = v128.load32_splat(pa, 8);
    const a3 = v128.load32_splat(pa, 12);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += MR * 4;
    pb += NR * 4;
  }
  if (addToC) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16)); c += ldcBytes;
    c10 = f32x4.add(c10, v128.load(c)); c11 = f32x4.add(c11, v128.load(c, 16)); c += ldcBytes;
    c20 = f32x4.add(c20, v128.load(c)); c21 = f32x4.add(c21, v128.load(c, 16)); c += ldcBytes;
    c30 = f32x4.add(c30, v128.load(c)); c31 = f32x4.add(c31, v128.load(c, 16));
    c -= ldcBytes * 3;
  }
  v128.store(c, c00); v128.store(c, c01, 16); c += ldcBytes;
  v128.store(c, c10); v128.store(c, c11, 16); c += ldcBytes;
  v128.store(c, c20); v128.store(c, c21, 16); c += ldcBytes;
  v128.store(c, c30); v128.store(c, c31, 16);
}

// Scalar build: a 4×2 strip of the tile (pb and c already offset to it).
function microKernelScalar(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, addToC: bool): void {
  let c00: f32 = 0, c01: f32 = 0, c10: f32 = 0, c11: f32 = 0;
  let c20: f32 = 0, c21: f32 = 0, c30: f32 = 0, c31: f32 = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = load<f32>(pb), b1 = load<f32>(pb, 4);
    let av = load<f32>(pa);
    c00 += av * b0; c01 += av * b1;
    av = load<f32>(pa, 4);
    c10 += av * b0; c11 += av * b1;
    av = load<f32>(pa, 8);
    c20 += av * b0; c21 += av * b1;
    av = load<f32>(pa, 12);
    c30 += av * b0; c31 += av * b1;
    pa += MR * 4;
    pb += NR * 4;
  }
  storePair(c, c00, c01, addToC); c += ldcBytes;
  storePair(c, c10, c11, addToC); c += ldcBytes;
  storePair(c, c20, c21, addToC); c += ldcBytes;
  storePair(c, c30, c31, addToC);
}

@inline
function storePair(c: usize, v0: f32, v1: f32, addToC: bool): void {
  if (addToC) {
    v0 += load<f32>(c); v1 += load<f32>(c, 4);
  }
  store<f32>(c, v0); store<f32>(c, v1, 4);
}
