// pruneLayer on the pure-TypeScript float64 engine: the test oracle, driven by the same
// controller as the WebAssembly engine (so it checks the wasm loop, not the controller). Slow.
import { solveLayer } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult, MatrixInput } from "../types.ts";
import { createReferenceEngine } from "./engine.ts";

/** The same solve on the pure-TypeScript float64 reference engine (the test oracle; slow). */
export async function pruneLayerReference(input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, createReferenceEngine);
}
