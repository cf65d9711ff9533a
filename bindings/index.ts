// net-trim: Net-Trim convex pruning of neural networks, in SIMD WebAssembly. The public surface.

// The layer solver.
export { pruneLayerWith, openLayerSession, type LayerSession } from "./solver/prune-layer.ts";
export { pruneLayer } from "./workers/layer-threads.ts";
export { pruneLayerReference } from "./reference/prune-layer-reference.ts";
export { matrix } from "./matrix.ts";
export { DEFAULTS } from "./defaults.ts";
export type {
  Matrix, MatrixInput, LayerKind, LayerOptions, LayerResult, LayerInfo, ProgressInfo, SolveStatus, WarmStart, DualState,
} from "./types.ts";

// Networks: the format-neutral type, the drivers, the forward pass, the baseline.
export type { DenseNetwork, DenseLayerSpec, DenseActivation, LayersModelSource } from "./network/network.ts";
export { pruneNetwork } from "./network/prune-network.ts";
export type {
  NetworkOptions, NetworkResult, NetworkProgress, NetworkExecution, LayerReport, PruneMode, NetworkLayerOptions, Guarantee,
} from "./network/types.ts";
export { forward } from "./network/forward.ts";
export { magnitudePrune } from "./network/magnitude.ts";

// Model files: TF.js LayersModel in and out, the masks file; calibration samples (.npy, JSON).
export { parseLayersModel } from "./formats/tfjs/read.ts";
export { writeLayersModel, countNonzeros, type WrittenLayersModel, type LayerCount } from "./formats/tfjs/write.ts";
export { masksOf, masksToJson, masksFromJson, type LayerMask, type MasksJson } from "./formats/masks.ts";
export { ModelFormatError, type ModelFormatErrorDetails } from "./formats/model-format-error.ts";
export { parseNpy, parseCalibrationJson, type SampleMatrix } from "./formats/samples.ts";

// Running it: the wasm backend and the worker pool.
export { init, instantiate, compileModule, simdSupported, type Backend, type InitOptions } from "./wasm/loader.ts";
export {
  createLayerPool, type LayerPool, type LayerJob, type LayerPoolOptions, type SolveHooks, type PoolLayerOptions,
} from "./workers/pool.ts";
export type { WorkerHandle } from "./workers/protocol.ts";

export {
  NetTrimError, ValidationError, ShapeError, NonFiniteError, WasmUnavailableError, OutOfMemoryError,
  type NetTrimErrorCode,
} from "./errors.ts";
