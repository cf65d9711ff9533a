// net-trim: Net-Trim convex pruning of neural networks, in SIMD WebAssembly. The public surface.

// The layer solver.
export { pruneLayerWith, openLayerSession, type LayerSession } from "./solver/prune-layer.ts";
export { pruneLayer } from "./workers/layer-threads.ts";
export { pruneLayerReference } from "./reference/prune-layer-reference.ts";
export { matrix, tensor } from "./matrix.ts";
export { pruneConvLayerWith } from "./solver/prune-conv-layer.ts";
export { pruneConvLayer } from "./workers/conv-threads.ts";
export { pruneDepthwiseConvLayer, pruneDepthwiseConvLayerWith, type DepthwiseResult } from "./solver/prune-depthwise-layer.ts";
export type { Tensor, ConvGeometryOptions, ConvLayerOptions } from "./conv-types.ts";
export { DEFAULTS, LIMITS, NETWORK_REWEIGHT, REWEIGHT_MAX_ROUNDS } from "./defaults.ts";
export type {
  Matrix, MatrixInput, LayerKind, LayerOptions, LayerResult, LayerInfo, ProgressInfo, SolveStatus, WarmStart, DualState,
  ReweightOptions, ReweightInfo, ReweightRound,
} from "./types.ts";

// Networks: the format-neutral type, the drivers, the forward pass, the baselines (magnitude, Wanda, SparseGPT).
export type { DenseNetwork, DenseLayerSpec, DenseActivation, LayersModelSource } from "./network/network.ts";
export { pruneNetwork } from "./network/prune-network.ts";
export type {
  NetworkOptions, NetworkResult, NetworkProgress, NetworkExecution, LayerReport, PruneMode, NetworkLayerOptions, Guarantee, GuaranteeSummary, KeepSearch, CommonGainKeep, PerLayerKeep,
  LayerRefit, RefitSummary,
} from "./network/types.ts";
export { forward } from "./network/forward.ts";
export type {
  ModelGraph, GraphNode, GraphNodeSpec, GraphOp, GraphActivation, PrunableNode, NodeOrigin,
} from "./network/graph/types.ts";
export { isPrunable } from "./network/graph/types.ts";
export { buildGraph } from "./network/graph/build.ts";
export { forwardGraph, type ForwardRequest, type GraphSignals } from "./network/graph/forward-graph.ts";
export { foldBatchNorms, type FoldedBatchNorm } from "./network/graph/fold-batchnorm.ts";
export { magnitudePrune } from "./network/magnitude.ts";
export { magnitudePruneGraph } from "./network/graph-magnitude.ts";
export { pruneGraph } from "./network/prune-graph.ts";
export type {
  GraphPruneOptions, GraphLayerOptions, GraphResult, GraphGuarantee, GraphLayerReport, GraphOutputError, NodeProgram,
} from "./network/graph-prune-types.ts";
export { magnitudeBaseline, type BaselinePruner } from "./network/baselines/baseline.ts";
export { wandaPrune } from "./network/baselines/wanda.ts";
export { sparseGptPrune } from "./network/baselines/sparsegpt.ts";

// Model files: TF.js LayersModel in and out, the masks file; calibration samples (.npy, JSON).
export { parseLayersModel } from "./formats/tfjs/read.ts";
export { parseLayersModelGraph } from "./formats/tfjs/graph-read.ts";
export { writeLayersModelGraph } from "./formats/tfjs/graph-write.ts";
export { writeLayersModel, countNonzeros, type WrittenLayersModel, type LayerCount } from "./formats/tfjs/write.ts";
export { masksOf, masksToJson, masksFromJson, graphMasksToJson, type LayerMask, type MasksJson } from "./formats/masks.ts";
export { ModelFormatError, type ModelFormatErrorDetails } from "./formats/model-format-error.ts";
export { parseNpy, parseCalibrationJson, type SampleMatrix } from "./formats/samples.ts";

// Running it: the wasm backend and the worker pool.
export { init, instantiate, compileModule, simdSupported, type Backend, type InitOptions } from "./wasm/loader.ts";
export {
  createLayerPool, type LayerPool, type LayerJob, type LayerPoolOptions, type SolveHooks, type PoolLayerOptions,
  type ConvJob, type PoolConvOptions,
} from "./workers/pool.ts";
export type { WorkerHandle } from "./workers/protocol.ts";

export {
  NetTrimError, ValidationError, ShapeError, NonFiniteError, GraphError, WasmUnavailableError, OutOfMemoryError, WorkFolderError,
  type NetTrimErrorCode,
} from "./errors.ts";

// ONNX in and out.
export { parseOnnxModel } from "./formats/onnx/read.ts";
export { writeOnnxModel } from "./formats/onnx/write.ts";
export { onnxToGraphLayout, graphToOnnxLayout } from "./formats/onnx/layouts.ts";
export type {
  OnnxSource, OnnxReadOptions, OnnxWriteOptions, OnnxValueInfo, ValueLayout, WeightBinding, TensorSlot,
} from "./formats/onnx/types.ts";

// The compact file (.ntz): a pruned model's topology and sparse weights, range-coded.
export { encodeCompact, type CompactOptions } from "./formats/compact/encode.ts";
export { decodeCompact, decodeCompactNetwork } from "./formats/compact/decode.ts";
export { isCompactModel, type CompactValues } from "./formats/compact/header.ts";
export type { WeightQuantization } from "./formats/tfjs/quantize.ts";
export { createRuntime, type RuntimeOptions, type SparseRuntime, type RuntimeLayer } from "./runtime/create-runtime.ts";
export { loadModel, type ModelSource, type LoadModelOptions, type LoadedModel } from "./runtime/load-model.ts";
