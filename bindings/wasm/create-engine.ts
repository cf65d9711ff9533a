// The wasm engine for a problem: the reduced form for a linear layer that asked for it, else the
// engine over the samples.
import type { AdmmEngine, LayerProblem } from "../solver/engine.ts";
import type { Backend } from "./loader.ts";
import { createWasmEngine } from "./engine.ts";
import { createReducedEngine } from "./reduced-engine.ts";

export function createEngine(backend: Backend, problem: LayerProblem): AdmmEngine {
  return problem.form === "reduced" ? createReducedEngine(backend, problem) : createWasmEngine(backend, problem);
}
