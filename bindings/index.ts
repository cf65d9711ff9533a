// net-trim: Net-Trim convex pruning of neural networks, in SIMD WebAssembly.
export { pruneLayer, pruneLayerWith, pruneLayerReference, openLayerSession, type LayerSession } from "./solver/prune-layer.ts";
export {
  pruneNetwork, type NetworkOptions, type NetworkResult, type NetworkProgress, type LayerReport, type Guarantee,
  type PruneMode, type NetworkLayerOptions,
} from "./network/prune-network.ts";
export {
  parseLayersModel, writeLayersModel, forward, masksOf, masksToJson, masksFromJson, countNonzeros, ModelFormatError,
  type DenseNetwork, type DenseLayerSpec, type WrittenLayersModel, type LayerMask, type MasksJson,
} from "./formats/tfjs/index.ts";
export { magnitudePrune } from "./network/magnitude.ts";
export { createLayerPool, type LayerPool, type LayerJob } from "./workers/pool.ts";
export { init, instantiate, compileModule, simdSupported, type Backend, type InitOptions } from "./wasm/loader.ts";
export { matrix } from "./matrix.ts";
export { DEFAULTS } from "./defaults.ts";
export {
  NetTrimError, ValidationError, ShapeError, NonFiniteError, WasmUnavailableError, OutOfMemoryError,
  type NetTrimErrorCode,
} from "./errors.ts";
export type {
  Matrix, MatrixInput, LayerKind, LayerOptions, LayerResult, LayerInfo, ProgressInfo, SolveStatus, WarmStart, DualState,
} from "./types.ts";
