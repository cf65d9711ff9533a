// pruneLayer on the pure-TypeScript float64 engine: the test oracle, driven by the same
// controller as the WebAssembly engine (so it checks the wasm loop, not the controller). Slow.
import { ValidationError } from "../errors.ts";
import { solveLayer } from "../solver/prune-layer.ts";
import type { LayerOptions, LayerResult, MatrixInput } from "../types.ts";
import { createReferenceEngine } from "./engine.ts";

/**
 * The same solve on the pure-TypeScript float64 reference engine (the test oracle; slow). It
 * solves the program on the samples only, so that it can check the reduced form of linear layers.
 */
export async function pruneLayerReference(input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  const form = options?.linearForm;
  if (form !== undefined && form !== "samples" && form !== "auto") {
    throw new ValidationError("options.linearForm", `"samples" or "auto" (the reference solves the program on the samples)`, form);
  }
  const asked = options === undefined ? {} : options;
  const onSamples = typeof asked === "object" && asked !== null ? { ...asked, linearForm: "samples" as const } : asked;
  return solveLayer(input, output, onSamples, createReferenceEngine);
}
