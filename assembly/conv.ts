// The convolution operator of a Conv2D layer (SPEC §3, "Convolutional layers") and its adjoint,
// without the im2col matrix: patches are gathered a block of rows at a time into a small buffer
// and multiplied by the packed GEMM, so memory holds the input tensor and one block, never the
// P×N̄ unrolling (P = samples·Hout·Wout, N̄ = kh·kw·Cin + 1).
//
// Row p = (n, oy, ox) of the unrolling holds, at column (dy·kw + dx)·Cin + c, the input
// x[n, oy·sh + dy·dh − padTop, ox·sw + dx·dw − padLeft, c] (0 outside the image), and at its last
// column the bias value. Weights W (N̄×M) are the TF.js kernel [kh, kw, Cin, Cout] with the bias
// row last, so
//   convForward:  out (P×M)  = A(W)  = unrolling · W        (the convolution, NHWC output)
//   convAdjoint:  out (N̄×M) = A*(B) = unrollingᵀ · B       (the weight gradient of B)
//   convGram:     out (N̄×N̄) = A*A  = unrollingᵀ · unrolling
// All three sum the blocks in row order, so results do not depend on anything but the data.

import { gemm } from "./gemm";
import { transpose } from "./transpose";

let samples: i32 = 0;
let inH: i32 = 0;
let inW: i32 = 0;
let inC: i32 = 0;
let outH: i32 = 0;
let outW: i32 = 0;
let kH: i32 = 0;
let kW: i32 = 0;
let strideH: i32 = 1;
let strideW: i32 = 1;
let dilationH: i32 = 1;
let dilationW: i32 = 1;
let padTop: i32 = 0;
let padLeft: i32 = 0;
let M: i32 = 0;
let NB: i32 = 0;
let P: i32 = 0;
let pInput: usize = 0;
let biasValue: f32 = 0;
let pPatch: usize = 0; // rows × N̄
let pPatchT: usize = 0; // N̄ × rows
let blockRows: i32 = 1;
let pScratch: usize = 0; // gemmScratchBytes()

/** Rows per gathered block for N̄ columns: about 1 MiB per block, at least 4 rows. */
export function convBlockRows(nb: i32): i32 {
  return max(4, (1 << 20) / (max(nb, 1) * 4));
}

/**
 * Stores the geometry and the buffers. `input` is the NHWC tensor [samples, h, w, c]; with
 * N̄ = kh·kw·c + 1 and R = convBlockRows(N̄), `patch` holds R·N̄ floats and `patchT`
 * R·max(N̄, m) + m·N̄ (a transposed block, of patches or of the adjoint's input, then outᵀ).
 */
export function convConfigure(
  n: i32, h: i32, w: i32, c: i32, ho: i32, wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
  m: i32, input: usize, bias: f32, patch: usize, patchT: usize, scratch: usize,
): void {
  samples = n; inH = h; inW = w; inC = c; outH = ho; outW = wo;
  kH = kh; kW = kw; strideH = sh; strideW = sw; dilationH = dh; dilationW = dw;
  padTop = pt; padLeft = pl; M = m;
  NB = kh * kw * c + 1;
  P = n * ho * wo;
  pInput = input; biasValue = bias;
  pPatch = patch; pPatchT = patchT;
  blockRows = convBlockRows(NB);
  pScratch = scratch;
}

/** Below this many bytes a copy or fill is done in registers: memory.copy / memory.fill are calls. */
const SHORT_RUN_BYTES: usize = 64;

/** Copies `bytes` (a multiple of 4) from src to dst: conv1-like layers copy runs of 5 floats. */
@inline function copyRun(dst: usize, src: usize, bytes: usize): void {
  if (bytes >= SHORT_RUN_BYTES) {
    memory.copy(dst, src, bytes);
    return;
  }
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  }
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

/** Zeroes `bytes` (a multiple of 4) at dst. */
@inline function zeroRun(dst: usize, bytes: usize): void {
  if (bytes >= SHORT_RUN_BYTES) {
    memory.fill(dst, 0, bytes);
    return;
  }
  for (let i: usize = 0; i < bytes; i += 4) store<f32>(dst + i, 0);
}

/**
 * Writes columns [c0, c1) of rows [row0, row0 + rows) of the unrolling into `dst`
 * (rows × (c1 − c0), row-major). The column range lets threads split the adjoint by kernel rows.
 */
function gather(row0: i32, rows: i32, c0: i32, c1: i32, dst: usize): void {
  const perSample = outH * outW;
  const width = c1 - c0;
  const tapsEnd = min(c1, NB - 1); // the last column is the bias
  const kernelRow = kW * inC; // columns of one kernel row
  // Row p = (n, oy, ox): divided once, then stepped.
  let n = row0 / perSample;
  const rem = row0 - n * perSample;
  let oy = rem / outW;
  let ox = rem - oy * outW - 1;
  for (let r = 0; r < rows; r++) {
    if (++ox == outW) {
      ox = 0;
      if (++oy == outH) { oy = 0; n++; }
    }
    const rowDst = dst + <usize>r * <usize>width * 4;
    const ix0 = ox * strideW - padLeft;
    // Undilated taps inside the image are one contiguous run of kw·Cin floats per kernel row.
    const wholeRow = dilationW == 1 && ix0 >= 0 && ix0 + kW <= inW;
    for (let dy = c0 / kernelRow; dy < kH && dy * kernelRow < tapsEnd; dy++) {
      const rowStart = dy * kernelRow;
      const lo = max(c0, rowStart), hi = min(tapsEnd, rowStart + kernelRow);
      const iy = oy * strideH + dy * dilationH - padTop;
      const rowInside = iy >= 0 && iy < inH;
      const pixelRow = pInput + <usize>(n * inH + iy) * <usize>inW * <usize>inC * 4;
      if (rowInside && wholeRow) {
        copyRun(rowDst + <usize>(lo - c0) * 4, pixelRow + (<usize>ix0 * <usize>inC + <usize>(lo - rowStart)) * 4, <usize>(hi - lo) * 4);
        continue;
      }
      for (let dx = (lo - rowStart) / inC; dx < kW && rowStart + dx * inC < hi; dx++) {
        const tapStart = rowStart + dx * inC;
        const a = max(lo, tapStart), b = min(hi, tapStart + inC);
        const ix = ix0 + dx * dilationW;
        const at = rowDst + <usize>(a - c0) * 4;
        if (rowInside && ix >= 0 && ix < inW) {
          copyRun(at, pixelRow + (<usize>ix * <usize>inC + <usize>(a - tapStart)) * 4, <usize>(b - a) * 4);
        } else {
          zeroRun(at, <usize>(b - a) * 4);
        }
      }
    }
    if (c1 == NB) store<f32>(rowDst + <usize>(NB - 1 - c0) * 4, biasValue);
  }
}

/** out (P×M) = A(w): the convolution of the input with w (N̄×M), bias row included. */
export function convForward(w: usize, out: usize): void {
  convForwardRows(w, out, 0, P);
}

/**
 * Rows [r0, r1) of out (P×M) = A(w). Each output row is one dot product per column in the
 * GEMM's fixed order, so any split of the rows over threads gives convForward's bits.
 */
export function convForwardRows(w: usize, out: usize, r0: i32, r1: i32): void {
  for (let row0 = r0; row0 < r1; row0 += blockRows) {
    const rows = min(blockRows, r1 - row0);
    gather(row0, rows, 0, NB, pPatch);
    gemm(rows, M, NB, pPatch, NB, w, M, out + <usize>row0 * <usize>M * 4, M, 0, pScratch);
  }
}

/**
 * out (N̄×M) = A*(b): the correlation of the input with b (P×M), i.e. the weight gradient.
 * Accumulated transposed, outᵀ (M×N̄) += bᵀ·patch block by block, so that only the M-wide block
 * of b is transposed (not the N̄-wide patches); outᵀ is transposed once at the end.
 */
export function convAdjoint(b: usize, out: usize): void {
  convAdjointRows(b, out, 0, NB);
}

/**
 * Rows [k0, k1) of out (N̄×M) = A*(b) (kernel rows: threads split the adjoint by them). The blocks
 * of samples are convAdjoint's whatever the range, and each entry is summed over them in the same
 * order, so any split gives convAdjoint's bits. Each call transposes every block of b: a threaded
 * caller transposes b once and calls convAdjointRowsOfTransposed instead.
 */
export function convAdjointRows(b: usize, out: usize, k0: i32, k1: i32): void {
  adjointRows(b, false, 0, out, k0, k1);
}

/**
 * convAdjointRows on bᵀ (M×P, leading dimension ldbT) already transposed: the same products on
 * the same values (the GEMM packs its operand whatever its leading dimension), so the same bits.
 */
export function convAdjointRowsOfTransposed(bT: usize, ldbT: i32, out: usize, k0: i32, k1: i32): void {
  adjointRows(bT, true, ldbT, out, k0, k1);
}

function adjointRows(b: usize, transposed: bool, ldbT: i32, out: usize, k0: i32, k1: i32): void {
  const width = k1 - k0;
  if (width <= 0) return;
  const outT = pPatchT + <usize>blockRows * <usize>max(NB, M) * 4;
  if (P == 0) {
    memory.fill(out + <usize>k0 * <usize>M * 4, 0, <usize>width * <usize>M * 4);
    return;
  }
  for (let row0 = 0; row0 < P; row0 += blockRows) {
    const rows = min(blockRows, P - row0);
    gather(row0, rows, k0, k1, pPatch);
    let blockT = b + <usize>row0 * 4, ld = ldbT; // columns [row0, row0 + rows) of bᵀ
    if (!transposed) {
      transpose(rows, M, b + <usize>row0 * <usize>M * 4, M, pPatchT, rows);
      blockT = pPatchT; ld = rows;
    }
    gemm(M, width, rows, blockT, ld, pPatch, width, outT, width, row0 > 0 ? 1 : 0, pScratch);
  }
  transpose(M, width, outT, width, out + <usize>k0 * <usize>M * 4, M);
}

/** out (N̄×N̄) = A*A, the Gram matrix of the unrolling, block by block. */
export function convGram(out: usize): void {
  if (P == 0) {
    memory.fill(out, 0, <usize>NB * <usize>NB * 4);
    return;
  }
  for (let row0 = 0; row0 < P; row0 += blockRows) {
    const rows = min(blockRows, P - row0);
    gather(row0, rows, 0, NB, pPatch);
    transpose(rows, NB, pPatch, NB, pPatchT, rows);
    gemm(NB, NB, rows, pPatchT, rows, pPatch, NB, out, NB, row0 > 0 ? 1 : 0, pScratch);
  }
}
