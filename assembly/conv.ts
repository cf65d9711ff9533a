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

/** Writes rows [row0, row0 + rows) of the unrolling into the patch buffer (rows × N̄). */
function gather(row0: i32, rows: i32): void {
  const perSample = outH * outW;
  const segment = <usize>inC * 4;
  const rowBytes = <usize>NB * 4;
  for (let r = 0; r < rows; r++) {
    const p = row0 + r;
    const n = p / perSample;
    const rem = p - n * perSample;
    const oy = rem / outW;
    const ox = rem - oy * outW;
    const dst = pPatch + <usize>r * rowBytes;
    let col: usize = 0;
    const ix0 = ox * strideW - padLeft;
    // Undilated taps inside the image are one contiguous run of kw·Cin floats per kernel row.
    const wholeRow = dilationW == 1 && ix0 >= 0 && ix0 + kW <= inW;
    for (let dy = 0; dy < kH; dy++) {
      const iy = oy * strideH + dy * dilationH - padTop;
      const rowInside = iy >= 0 && iy < inH;
      if (rowInside && wholeRow) {
        const src = pInput + ((<usize>(n * inH + iy) * <usize>inW + <usize>ix0) * <usize>inC) * 4;
        memory.copy(dst + col, src, segment * <usize>kW);
        col += segment * <usize>kW;
        continue;
      }
      for (let dx = 0; dx < kW; dx++) {
        const ix = ix0 + dx * dilationW;
        const at = dst + col;
        if (rowInside && ix >= 0 && ix < inW) {
          const src = pInput + ((<usize>(n * inH + iy) * <usize>inW + <usize>ix) * <usize>inC) * 4;
          memory.copy(at, src, segment);
        } else {
          memory.fill(at, 0, segment);
        }
        col += segment;
      }
    }
    store<f32>(dst + col, biasValue);
  }
}

/** out (P×M) = A(w): the convolution of the input with w (N̄×M), bias row included. */
export function convForward(w: usize, out: usize): void {
  for (let row0 = 0; row0 < P; row0 += blockRows) {
    const rows = min(blockRows, P - row0);
    gather(row0, rows);
    gemm(rows, M, NB, pPatch, NB, w, M, out + <usize>row0 * <usize>M * 4, M, 0, pScratch);
  }
}

/**
 * out (N̄×M) = A*(b): the correlation of the input with b (P×M), i.e. the weight gradient.
 * Accumulated transposed, outᵀ (M×N̄) += bᵀ·patch block by block, so that only the M-wide block
 * of b is transposed (not the N̄-wide patches); outᵀ is transposed once at the end.
 */
export function convAdjoint(b: usize, out: usize): void {
  const outT = pPatchT + <usize>blockRows * <usize>max(NB, M) * 4;
  if (P == 0) {
    memory.fill(out, 0, <usize>NB * <usize>M * 4);
    return;
  }
  for (let row0 = 0; row0 < P; row0 += blockRows) {
    const rows = min(blockRows, P - row0);
    gather(row0, rows);
    transpose(rows, M, b + <usize>row0 * <usize>M * 4, M, pPatchT, rows);
    gemm(M, NB, rows, pPatchT, rows, pPatch, NB, outT, NB, row0 > 0 ? 1 : 0, pScratch);
  }
  transpose(M, NB, outT, NB, out, M);
}

/** out (N̄×N̄) = A*A, the Gram matrix of the unrolling, block by block. */
export function convGram(out: usize): void {
  if (P == 0) {
    memory.fill(out, 0, <usize>NB * <usize>NB * 4);
    return;
  }
  for (let row0 = 0; row0 < P; row0 += blockRows) {
    const rows = min(blockRows, P - row0);
    gather(row0, rows);
    transpose(rows, NB, pPatch, NB, pPatchT, rows);
    gemm(NB, NB, rows, pPatchT, rows, pPatch, NB, out, NB, row0 > 0 ? 1 : 0, pScratch);
  }
}
