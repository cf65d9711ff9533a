// The model a prune reads and writes: a TF.js chain of Dense layers (pruneNetwork), a TF.js graph,
// an ONNX model or a compact .ntz file (pruneGraph). The format is chosen from the file's content:
// a model.json starts with "{", a compact file with "NTZ\0", anything else is read as ONNX protobuf.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  decodeCompact, encodeCompact, isCompactModel, ModelFormatError, NetTrimError, onnxToGraphLayout, writeLayersModel, parseLayersModel, parseLayersModelGraph, writeLayersModelGraph, writeOnnxModel,
  type CompactValues, type DenseNetwork, type ModelGraph, type WrittenLayersModel,
} from "../bindings/index.ts";
import { readLayersModelBytes, readOnnxModelFile, type LayersModelBytes, type SampleMatrix } from "../bindings/node/files.ts";
import type { OutputFile } from "./atomic-output.ts";

interface GraphSource {
  kind: "graph";
  graph: ModelGraph;
  modelPath: string;
  /** The model files written into the output folder (the names of `files`). */
  modelFiles: string[];
  files(graph: ModelGraph, metadata: Record<string, unknown>): OutputFile[];
  /** The calibration samples in the graph's order (NHWC images), checked against the model's input. */
  samplesFor(calib: SampleMatrix, name: string): SampleMatrix;
}

type ModelSource = { kind: "dense"; network: DenseNetwork; files: LayersModelBytes } | GraphSource;

/** The file each format's pruned model is written to. */
export const MODEL_FILE = { tfjs: "model.json", onnx: "model.onnx", compact: "model.ntz" } as const;

/** "onnx" unless the path is a folder, a file whose first non-blank byte is "{" or a compact file. */
export function modelFormatOf(modelArg: string): "tfjs" | "onnx" | "compact" {
  const file = path.resolve(modelArg);
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) return "tfjs"; // the TF.js reader names what is missing
  const head = Buffer.alloc(64);
  const fd = fs.openSync(file, "r");
  let n = 0;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (isCompactModel(head.subarray(0, n))) return "compact";
  const first = head.subarray(0, n).toString("latin1").trimStart()[0];
  return first === "{" || n === 0 ? "tfjs" : "onnx";
}

/** Per-sample shape check: [n, ...shape] exactly, or flattened; another layout of the same size is refused. */
function checkSampleShape(calib: SampleMatrix, name: string, shape: readonly number[], inputName: string): void {
  const size = shape.reduce((a, b) => a * b, 1);
  const given = calib.sampleShape ?? [calib.cols];
  const fits = calib.sampleShape ? given.length === shape.length && given.every((d, i) => d === shape[i]) : calib.cols === size;
  if (!fits) {
    throw new NetTrimError("shape_mismatch",
      `${name} has samples of shape [${given.join(", ")}] but the model's input "${inputName}" takes [${shape.join(", ")}] (or the same flattened: ${size} features per sample)`);
  }
}

function oneInput(graph: ModelGraph): ModelGraph["nodes"][number] {
  if (graph.inputs.length !== 1) {
    throw new NetTrimError("shape_mismatch", `the model has ${graph.inputs.length} inputs (${graph.inputs.join(", ")}): net-trim prune takes one calibration file, so models with one input only`);
  }
  return graph.nodes.find((n) => n.name === graph.inputs[0])!;
}

/** A compact file: always a graph (pruneGraph), written back as model.ntz (float32 unless asked for float16). */
function compactSource(modelArg: string, values: CompactValues): GraphSource {
  const modelPath = path.resolve(modelArg);
  const graph = decodeCompact(fs.readFileSync(modelPath));
  return {
    kind: "graph", graph, modelPath, modelFiles: [MODEL_FILE.compact],
    files: (pruned) => [{ name: MODEL_FILE.compact, contents: () => encodeCompact(pruned, { values }) }],
    samplesFor(calib, name) {
      const input = oneInput(graph);
      checkSampleShape(calib, name, input.shape, input.name);
      return calib;
    },
  };
}

export function readModelSource(modelArg: string, options: { sparseInitializers: boolean; compactValues?: CompactValues }): ModelSource {
  const format = modelFormatOf(modelArg);
  if (format === "compact") return compactSource(modelArg, options.compactValues ?? "float32");
  if (format === "onnx") {
    const { graph, source, modelPath } = readOnnxModelFile(modelArg);
    return {
      kind: "graph", graph, modelPath, modelFiles: ["model.onnx"],
      files: (pruned) => [{ name: "model.onnx", contents: () => writeOnnxModel(pruned, source, { sparse: options.sparseInitializers }) }],
      samplesFor(calib, name) {
        // ONNX users hold samples in the model's own layout (NCHW images): convert to the graph's.
        oneInput(graph);
        const info = source.inputs[0];
        checkSampleShape(calib, name, info.shape, info.name);
        return { data: onnxToGraphLayout(info, calib.data, calib.rows), rows: calib.rows, cols: calib.cols };
      },
    };
  }
  const files = readLayersModelBytes(modelArg);
  try {
    return { kind: "dense", network: parseLayersModel(files.modelJson, files.weightData), files };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
  }
  // Not a chain of Dense layers: any graph the graph reader takes.
  const graph = parseLayersModelGraph(files.modelJson, files.weightData);
  return {
    kind: "graph", graph, modelPath: files.modelPath, modelFiles: ["model.json", "weights.bin"],
    files: (pruned, metadata) => layersModelFiles(writeLayersModelGraph(files.modelJson, pruned, metadata)),
    samplesFor(calib, name) {
      const input = oneInput(graph);
      checkSampleShape(calib, name, input.shape, input.name);
      return calib;
    },
  };
}

/** The files of a written TF.js model: model.json and its weight file. */
export function layersModelFiles(written: WrittenLayersModel): OutputFile[] {
  return [
    { name: "model.json", contents: () => JSON.stringify(written.modelJson) },
    { name: written.weightsFile, contents: () => new Uint8Array(written.weightData) },
  ];
}

/**
 * Writes the model as read, to memory, before any work: a model the reader takes but the writer
 * refuses (or a writer that fails on it) is reported now, not after the prune.
 */
export function checkWritable(source: ModelSource, modelArg: string): void {
  try {
    if (source.kind === "dense") writeLayersModel(source.files.modelJson, source.network);
    else for (const f of source.files(source.graph, {})) f.contents();
  } catch (e) {
    if (e instanceof NetTrimError) throw e;
    throw new ModelFormatError({ where: modelArg, expected: "a model that can be written back after pruning", received: `${(e as Error).name}: ${(e as Error).message}` });
  }
}
