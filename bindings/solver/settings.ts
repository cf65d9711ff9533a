// What the solver works with once the public entrance (validate.ts) has checked and converted
// the user's arguments: trusted types, no further checks inside.
import type { LayerOptions, WarmStart } from "../types.ts";

/** A matrix as the solver reads it: f32 row-major (the user's own array when it already is one). */
export interface DenseF32 {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** LayerOptions after validation, every default filled in: what the solver reads. */
export interface ResolvedOptions {
  kind: "relu" | "linear";
  fitBias: boolean;
  epsilon: number | undefined;
  epsilonGain: number;
  activeThreshold: number;
  maxIter: number;
  timeLimitMs: number;
  signal: AbortSignal | undefined;
  onProgress: LayerOptions["onProgress"];
  warmStart: WarmStart | undefined;
  absTol: number;
  relTol: number;
  dualRelTol: number;
  feasTol: number;
  rho: number | "auto";
  adaptiveRho: boolean;
  alpha: number;
  checkInterval: number;
  sparseInput: "auto" | boolean;
  linearForm: "auto" | "samples" | "reduced";
  wUpdate: "auto" | "factored" | "woodbury" | "cg";
  threads: number | "auto";
  /** Reweighting rounds and relative δ; undefined: none. */
  reweight: { rounds: number; delta: number } | undefined;
}
