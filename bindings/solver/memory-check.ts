// Refuses, before any work, a layer whose solve would not fit in WebAssembly memory: the
// network drivers check every layer first so that nothing is solved of a network that cannot
// be finished.
import { OutOfMemoryError } from "../errors.ts";
import { estimateLayerBytes, WASM_MAX_BYTES } from "../wasm/memory-plan.ts";
import { estimateConvLayerBytes } from "../wasm/conv-memory-plan.ts";
import type { ConvGeometry } from "./conv-geometry.ts";

/** Throws OutOfMemoryError (with the bytes needed and the limit) when the layer cannot fit. */
export function checkLayerFits(what: string, P: number, N: number, M: number, hasUpperBound: boolean): void {
  const bytes = estimateLayerBytes(P, N, M, hasUpperBound);
  if (bytes > WASM_MAX_BYTES) throw new OutOfMemoryError(what, bytes, WASM_MAX_BYTES);
}

/** Throws OutOfMemoryError when a conv layer's operator-form solve cannot fit (its plan: input tensor, Gram, P·M buffers). */
export function checkConvLayerFits(what: string, geometry: ConvGeometry, hasUpperBound: boolean): void {
  const bytes = estimateConvLayerBytes(geometry, hasUpperBound);
  if (bytes > WASM_MAX_BYTES) throw new OutOfMemoryError(what, bytes, WASM_MAX_BYTES);
}
