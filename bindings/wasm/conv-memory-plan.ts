// The memory plan of one conv solve: the input tensor, two gathered blocks of the unrolling,
// the N̄×N̄ Gram and its factors, and the ADMM's P×M output-side and N̄×M weight-side buffers
// (P = samples·outH·outW, N̄ = kh·kw·inC + 1). The P×N̄ unrolling itself is never allocated.
import { layout } from "./memory-plan.ts";
import type { ConvGeometry } from "../solver/conv-geometry.ts";

/** How the W-update (A*A + I)W = D is solved: C̃⁻¹ formed once, or conjugate gradient (no N̄×N̄ buffer). */
export type WUpdate = "factored" | "cg";

/**
 * Byte sizes of every buffer of a conv solve; `blockRows` is the kernel's convBlockRows(N̄),
 * `sums` its admmSumsBytes(P, N̄) (the loop's per-slab sums).
 */
export function convBufferSizes(
  g: ConvGeometry, hasUpperBound: boolean, gemmScratch: number, blockRows: number, wUpdate: WUpdate, sums: number, l1Weighted = false,
): Record<string, number> {
  const P = g.samples * g.outH * g.outW;
  const NB = g.kh * g.kw * g.inC + 1;
  const M = g.outC;
  const out = P * M * 4;
  const w = NB * M * 4;
  const square = wUpdate === "factored" ? NB * NB : 0;
  return {
    input: g.samples * g.inH * g.inW * g.inC * 4, patch: blockRows * NB * 4,
    // A transposed block (patches, or the adjoint's M-wide input) and the adjoint's outᵀ (conv.ts).
    patchT: (blockRows * Math.max(NB, M) + M * NB) * 4,
    gram: square * 4, c64: square * 8, inv64: square * 8, cinv: square * 4,
    // cg.ts's work: 5·M f64 and (3·N̄ + P)·M f32 (cgWorkBytes, computed here in f64: it can pass 2 GiB).
    cgWork: wUpdate === "cg" ? M * 40 + (3 * NB + P) * M * 4 : 0,
    y: out, v: hasUpperBound ? out : 0, mask: P * M,
    u1: out, u1Saved: out, b: out, z: out, zNext: out,
    w3: w, w3Next: w, w2: w, u2: w, e: w, d: w,
    // The ℓ1 weights of reweighting (N̄×M), only when the solve reweights.
    l1Weights: l1Weighted ? w : 0,
    scratch: gemmScratch, sums,
  };
}

/**
 * Upper estimate of the wasm memory one conv solve needs, without a backend at hand (for
 * checking a whole network before any work): the kernels' scratch sizes as they are, blocks of
 * at most 1 MiB, 1 MiB for the module's own data.
 */
export function estimateConvLayerBytes(g: ConvGeometry, hasUpperBound: boolean, wUpdate: WUpdate = "factored"): number {
  const NB = g.kh * g.kw * g.inC + 1;
  const blockRows = Math.max(4, Math.floor((1 << 20) / (NB * 4)));
  // The loop's sums: 11 f64 per slab of 16 rows (admmSumsBytes in assembly/admm.ts).
  const sums = Math.ceil(Math.max(g.samples * g.outH * g.outW, NB) / 16) * 11 * 8;
  // The ℓ1 weights counted whether or not the solve reweights: an upper estimate (as memory-plan.ts).
  return layout(1024 * 1024, convBufferSizes(g, hasUpperBound, 2 * 1024 * 1024, blockRows, wUpdate, sums, true)).end;
}
