// The memory plan of one wasm solve: every buffer's size and its aligned offset, and an
// estimate of the total for checking a whole network before any work.
import { OutOfMemoryError } from "../errors.ts";
import type { DenseWUpdate, LayerProblem } from "../solver/engine.ts";

/** WebAssembly memory can address at most 4 GiB (65536 pages of 64 KiB). */
export const WASM_MAX_BYTES = 65536 * 65536;
const ALIGN = 64;

interface Plan {
  offsets: Record<string, number>;
  end: number;
}

function align(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}

/** Byte sizes of every buffer a solve needs. `nnz` is the nonzero count of Xt (bias column included). */
export function bufferSizes(problem: LayerProblem, gemmScratch: number, spmmScratch: number, sums: number): Record<string, number> {
  const { P, N, M } = problem;
  const NB = N + 1;
  const nnz = problem.designNonzeros;
  const out = P * M * 4;
  const w = NB * M * 4;
  // The factored W-update's N̄×N̄ matrices (Gram, f64 factor and inverse, f32 inverse), the
  // Woodbury form's P×P ones, or CG's work.
  const woodbury = problem.wUpdate === "woodbury";
  const square = problem.wUpdate === "cg" ? 0 : woodbury ? P * P : NB * NB;
  const sizes: Record<string, number> = {
    // X (features × samples) is needed dense by the dense products, and by the Woodbury form's
    // setup (Xt·X); the sparse products take its CSR.
    input: P * N * 4, xt: P * NB * 4, x: problem.sparse && !woodbury ? 0 : P * NB * 4,
    gram: square * 4, c64: square * 8, inv64: square * 8, cinv: square * 4,
    cgWork: problem.wUpdate === "cg" ? M * 40 + (3 * NB + P) * M * 4 : 0,
    y: out, v: problem.upperBound ? out : 0, mask: P * M,
    u1: out, u1Saved: out, b: out, z: out, zNext: out,
    // D holds the Woodbury form's T (P×M) instead of X·B + E.
    w3: w, w3Next: w, w2: w, u2: w, e: w, d: woodbury ? Math.max(P, NB) * M * 4 : w,
    scratch: gemmScratch, sums,
    // Reweighted ℓ1 only: the per-weight ℓ1 weights c (threshold c/ρ).
    l1Weights: problem.l1Weighted ? w : 0,
  };
  if (problem.sparse) {
    Object.assign(sizes, {
      xtRow: (P + 1) * 4, xtCol: nnz * 4, xtVal: nnz * 4,
      xRow: (NB + 1) * 4, xCol: nnz * 4, xVal: nnz * 4, spmmScratch,
    });
  }
  return sizes;
}

/**
 * Buffers `over` (consecutive in the sizes' order) are first written after `name` was last read,
 * so `name` can share their bytes: it starts where the first of them starts, and what follows
 * the last of them starts after it ends.
 */
interface Overlay {
  name: string;
  over: string[];
}

export function layout(base: number, sizes: Record<string, number>, overlay?: Overlay): Plan {
  const offsets: Record<string, number> = {};
  let at = align(base);
  let overlayEnd = 0;
  for (const [name, size] of Object.entries(sizes)) {
    if (name === overlay?.name) continue;
    if (name === overlay?.over[0]) {
      offsets[overlay.name] = at;
      overlayEnd = align(at + Math.max(sizes[overlay.name], 0));
    }
    offsets[name] = at;
    at = align(at + Math.max(size, 0));
    if (name === overlay?.over[overlay.over.length - 1]) at = Math.max(at, overlayEnd);
  }
  return { offsets, end: at };
}

/**
 * The input [P, N] is read once, into Xt (the design with the bias column); it then shares its
 * bytes with what is built from Xt: dense X, or the two CSR copies and their scratch.
 */
export function inputOverlay(problem: LayerProblem): Overlay {
  return { name: "input", over: problem.sparse ? ["xtRow", "xtCol", "xtVal", "xRow", "xCol", "xVal", "spmmScratch"] : ["x"] };
}

/** A layer input as the pre-check sees it: its nonzero count, and whether the solve takes sparse products. */
export interface InputSparsity {
  nonzeros: number;
  sparse: boolean;
}

/**
 * Upper estimate of the wasm memory one layer solve needs, without a backend at hand (for
 * checking a whole network before any work): the input sharing its bytes as the solve lays it
 * out, the ℓ1 weights of reweighting included, fixed scratch sizes of the kernels, 1 MiB for the
 * module's own data. With `input` (counted from the data), the plan the solve lays out for it,
 * the bias column counted as nonzero; without, sparse products with every input nonzero (Xt and
 * two CSR copies as big as dense ones: more than the dense products' Xt and X).
 */
export function estimateLayerBytes(
  P: number, N: number, M: number, hasUpperBound: boolean, wUpdate: DenseWUpdate = "factored", input?: InputSparsity,
): number {
  const problem = {
    P, N, M, upperBound: hasUpperBound ? new Float32Array(0) : undefined, form: "samples",
    sparse: input?.sparse ?? true, designNonzeros: input ? input.nonzeros + P : P * (N + 1),
    l1Weighted: true, // counted whether or not the solve reweights: an upper estimate
    wUpdate,
  } as unknown as LayerProblem;
  return solvePlanBytes(problem);
}

/**
 * The bytes one solve of `problem` lays out (its own nonzero count and W-update), with the
 * kernels' fixed scratch sizes taken at their largest and 1 MiB for the module's own data.
 */
export function solvePlanBytes(problem: LayerProblem): number {
  const k = Math.max(problem.P, problem.N + 1);
  // SpMM scratch: a packed panel of ≤ k rows of 96 bytes, and a 4-byte cursor per row (spmmScratchBytes).
  const sizes = bufferSizes(problem, 2 * 1024 * 1024, k * 100, Math.ceil(k / 16) * 88);
  return layout(1024 * 1024, sizes, inputOverlay(problem)).end;
}

/**
 * Grows the module's memory to hold a plan ending at `end`, or refuses with the numbers: above
 * WebAssembly's 4 GiB, or when the runtime will not grow it. `what` names the solve.
 */
export function growMemoryFor(memory: WebAssembly.Memory, end: number, what: string): void {
  if (end > WASM_MAX_BYTES) throw new OutOfMemoryError(what, end, WASM_MAX_BYTES);
  const needPages = Math.ceil(end / 65536) - memory.buffer.byteLength / 65536;
  if (needPages <= 0) return;
  try {
    memory.grow(needPages);
  } catch {
    throw new OutOfMemoryError(`${what} (the runtime refused to grow memory)`, end, memory.buffer.byteLength);
  }
}
