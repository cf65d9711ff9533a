// net-trim: Net-Trim convex pruning of neural-network layers, in SIMD WebAssembly.
export { pruneLayer, pruneLayerWith, pruneLayerReference } from "./prune-layer.ts";
export { init, instantiate, compileModule, simdSupported, type Backend, type InitOptions } from "./loader.ts";
export { matrix } from "./matrix.ts";
export { DEFAULTS } from "./defaults.ts";
export {
  NetTrimError, ValidationError, ShapeError, NonFiniteError, WasmUnavailableError, OutOfMemoryError,
  type NetTrimErrorCode,
} from "./errors.ts";
export type {
  Matrix, MatrixInput, LayerKind, LayerOptions, LayerResult, LayerInfo, ProgressInfo, SolveStatus, WarmStart, DualState,
} from "./types.ts";
