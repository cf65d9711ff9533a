// Refuses, before any work, a layer whose solve would not fit in WebAssembly memory: the
// network drivers check every layer first so that nothing is solved of a network that cannot
// be finished.
import { OutOfMemoryError } from "../errors.ts";
import { estimateLayerBytes, solvePlanBytes, WASM_MAX_BYTES, type InputSparsity } from "../wasm/memory-plan.ts";
import { SPARSE_INPUT_MIN_ZERO_FRACTION } from "../defaults.ts";
import { estimateConvLayerBytes, type WUpdate } from "../wasm/conv-memory-plan.ts";
import type { ConvGeometry } from "./conv-geometry.ts";
import type { DenseWUpdate, LayerProblem } from "./engine.ts";
// The estimates, for the network part (it reaches the solver through solver/ only).
export { estimateConvLayerBytes };

/**
 * Throws OutOfMemoryError (with the bytes needed and the limit) when the layer cannot fit: with
 * `wUpdate` "auto", when no W-update's plan fits. The plans
 * are those for `input` when its sparsity is known (inputSparsity), else every input nonzero is assumed.
 */
export function checkLayerFits(
  what: string, P: number, N: number, M: number, hasUpperBound: boolean, wUpdate: "auto" | DenseWUpdate = "auto", input?: InputSparsity,
): void {
  refuseOverLimit(what, denseLayerBytes(P, N, M, hasUpperBound, wUpdate, input));
}

/**
 * The W-updates "auto" tries for a Dense layer, best first; it takes the first whose plan fits.
 * Both square forms iterate with products of Xt and X: the factored one two and an N̄²M product,
 * the Woodbury one three and a P²M product (setup N̄²P against P²N̄), so Woodbury pays when
 * P ≤ N̄/2 and still fits where the factored one does not while P < N̄; CG holds no square matrix.
 */
function denseWUpdatePreferences(P: number, N: number): DenseWUpdate[] {
  const rows = N + 1;
  if (2 * P <= rows) return ["woodbury", "factored", "cg"];
  return P < rows ? ["factored", "woodbury", "cg"] : ["factored", "cg"];
}

/** The upper estimate of a Dense layer's solve and the W-update it takes ("auto": denseWUpdatePreferences). */
export function denseLayerBytes(
  P: number, N: number, M: number, hasUpperBound: boolean, wUpdate: "auto" | DenseWUpdate = "auto", input?: InputSparsity,
): { chosen: DenseWUpdate; bytes: number } {
  return chooseWUpdate(wUpdate, denseWUpdatePreferences(P, N), (u) => estimateLayerBytes(P, N, M, hasUpperBound, u, input));
}

/** `wanted`, or for "auto" the first of `preferences` whose plan fits in WebAssembly memory (else the last); with the chosen plan's bytes. */
function chooseWUpdate<U extends DenseWUpdate>(wanted: "auto" | U, preferences: U[], planBytes: (wUpdate: U) => number): { chosen: U; bytes: number } {
  const chosen = wanted !== "auto" ? wanted : preferences.find((u) => planBytes(u) <= WASM_MAX_BYTES) ?? preferences[preferences.length - 1];
  return { chosen, bytes: planBytes(chosen) };
}

/** Throws OutOfMemoryError (bytes needed, limit, the W-update named) when the chosen plan cannot fit. */
function refuseOverLimit<U extends DenseWUpdate>(what: string, { chosen, bytes }: { chosen: U; bytes: number }): U {
  if (bytes > WASM_MAX_BYTES) throw new OutOfMemoryError(`${what} (W-update: ${chosen})`, bytes, WASM_MAX_BYTES);
  return chosen;
}

/**
 * The W-update a Dense layer's samples-form solve will use: `wanted`, or for "auto" the first of
 * denseWUpdatePreferences whose plan (this problem's own nonzeros) fits. Throws
 * OutOfMemoryError (bytes needed, limit) when the chosen form cannot fit, before anything is allocated.
 */
export function layerWUpdateThatFits(what: string, problem: LayerProblem, wanted: "auto" | DenseWUpdate): DenseWUpdate {
  return refuseOverLimit(what, chooseWUpdate(wanted, denseWUpdatePreferences(problem.P, problem.N), (wUpdate) => solvePlanBytes({ ...problem, wUpdate })));
}

/**
 * Refuses a layer whose weights alone cannot fit: every engine holds six [N + 1, M] float32
 * buffers in WebAssembly memory (the iterate, its successor, the split copy, its dual and the
 * W-update's two), and even the zero answer returns N·M weights. A lower bound on any solve's
 * memory, cheap enough to check before any work, the trivial answer included.
 */
export function checkWeightsFit(what: string, N: number, M: number): void {
  const bytes = 6 * (N + 1) * M * 4;
  if (bytes > WASM_MAX_BYTES) throw new OutOfMemoryError(`${what} (its weights alone)`, bytes, WASM_MAX_BYTES);
}

/**
 * The W-update a conv layer's operator-form solve will use: `wanted`, or for "auto" the factored
 * form when its plan (input tensor, Gram and factors, P·M buffers) fits, else CG. Throws
 * OutOfMemoryError (bytes needed, limit) when the chosen form cannot fit.
 */
export function convWUpdateThatFits(what: string, geometry: ConvGeometry, hasUpperBound: boolean, wanted: "auto" | WUpdate = "auto"): WUpdate {
  return refuseOverLimit(what, chooseWUpdate<WUpdate>(wanted, ["factored", "cg"], (u) => estimateConvLayerBytes(geometry, hasUpperBound, u)));
}

/**
 * Whether a solve takes the sparse products: `sparseInput`, or for "auto" when at least half of
 * the design [X, 1] (P × (N + 1), `zeros` of them zero) is zero.
 */
export function takesSparseProducts(zeros: number, P: number, N: number, sparseInput: "auto" | boolean): boolean {
  const designZeroFraction = P * (N + 1) > 0 ? zeros / (P * (N + 1)) : 0;
  return sparseInput === "auto" ? designZeroFraction >= SPARSE_INPUT_MIN_ZERO_FRACTION : sparseInput;
}

/** The sparsity of a P × N input as the solve will see it (the pre-check's view of the data). */
export function inputSparsity(data: Float32Array, P: number, N: number, sparseInput: "auto" | boolean = "auto"): InputSparsity {
  let zeros = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
  return { nonzeros: data.length - zeros, sparse: takesSparseProducts(zeros, P, N, sparseInput) };
}
