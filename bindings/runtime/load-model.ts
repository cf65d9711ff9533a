// loadModel: what net-trim reads today, straight into the sparse runtime. A TF.js LayersModel
// ({modelJson, weightData}, as the readers take it), a compact .ntz file or ONNX bytes, told apart
// by content: a model.json is JSON text, a .ntz starts with "NTZ\0", an .onnx file is a protobuf.
import { ValidationError } from "../errors.ts";
import { decodeCompact } from "../formats/compact/decode.ts";
import { isCompactModel } from "../formats/compact/header.ts";
import { parseOnnxModel } from "../formats/onnx/read.ts";
import type { OnnxSource } from "../formats/onnx/types.ts";
import { parseLayersModelGraph } from "../formats/tfjs/graph-read.ts";
import type { ModelGraph } from "../network/graph/types.ts";
import { createRuntime, type RuntimeOptions, type SparseRuntime } from "./create-runtime.ts";

export type ModelSource =
  | { modelJson: unknown; weightData: ArrayBuffer | ArrayBuffer[] }
  | Uint8Array
  | ArrayBuffer;

export interface LoadModelOptions extends RuntimeOptions {
  /** ONNX external data: the bytes of the file at `location` (next to the model). */
  loadExternal?: (location: string) => Uint8Array | undefined;
}

export interface LoadedModel extends SparseRuntime {
  /** The graph the runtime runs (inputs and outputs NHWC: for ONNX images see onnxToGraphLayout). */
  graph: ModelGraph;
  /** The ONNX model's inputs, outputs and layouts; null for a TF.js or compact model. */
  onnx: OnnxSource | null;
}

function isJsonText(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  return bytes[i] === 0x7b; // "{"
}

/** Reads `source` and compiles it for the sparse runtime (see createRuntime). */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (options === null || typeof options !== "object") throw new ValidationError("options", "an object", options);
  const { loadExternal, ...runtimeOptions } = options;
  let graph: ModelGraph;
  let onnx: OnnxSource | null = null;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    if (isJsonText(bytes)) {
      throw new ValidationError("source", "ONNX bytes, or {modelJson, weightData} for a TF.js model (this is JSON text: a model.json needs its weights)", "JSON bytes");
    }
    if (isCompactModel(bytes)) graph = decodeCompact(bytes);
    else ({ graph, source: onnx } = parseOnnxModel(bytes, loadExternal ? { loadExternal } : {}));
  } else if (source !== null && typeof source === "object" && "modelJson" in source && "weightData" in source) {
    graph = parseLayersModelGraph(source.modelJson, source.weightData);
  } else {
    throw new ValidationError("source", "ONNX or compact .ntz bytes (Uint8Array or ArrayBuffer) or {modelJson, weightData} of a TF.js LayersModel", source);
  }
  const runtime = await createRuntime(graph, runtimeOptions);
  return { ...runtime, graph, onnx };
}
