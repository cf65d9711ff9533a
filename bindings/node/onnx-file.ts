// Node-only: an .onnx file read with its external data files, resolved next to the model (the
// ONNX convention), and never outside that folder.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ModelGraph } from "../network/graph/types.ts";
import { ModelFormatError } from "../formats/model-format-error.ts";
import { parseOnnxModel } from "../formats/onnx/read.ts";
import type { OnnxSource } from "../formats/onnx/types.ts";
import { readFileBounded } from "./read-bounded.ts";

/**
 * Reads `file` and parses it with parseOnnxModel; external data locations are read relative to it
 * (`externalFiles`: the locations read, as the model names them).
 */
export function readOnnxModelFile(file: string): { graph: ModelGraph; source: OnnxSource; modelPath: string; externalFiles: string[] } {
  const modelPath = path.resolve(file);
  if (!fs.existsSync(modelPath) || !fs.statSync(modelPath).isFile()) {
    throw new ModelFormatError({ where: "model file", file: modelPath, expected: "an existing .onnx file", received: `no file at ${modelPath}` });
  }
  const dir = path.dirname(modelPath);
  const externalFiles = new Set<string>();
  const loadExternal = (location: string): Uint8Array | undefined => {
    const target = path.resolve(dir, location);
    const inside = path.relative(dir, target);
    if (inside.startsWith("..") || path.isAbsolute(inside)) {
      throw new ModelFormatError({ where: `external data "${location}"`, file: target, expected: `a file inside ${dir} (the model's folder)`, received: target });
    }
    if (!fs.existsSync(target) || !fs.statSync(target).isFile()) return undefined;
    externalFiles.add(location);
    return new Uint8Array(readFileBounded(target, `external data "${location}"`));
  };
  const { graph, source } = parseOnnxModel(new Uint8Array(readFileBounded(modelPath, "model file")), { loadExternal });
  return { graph, source, modelPath, externalFiles: [...externalFiles] };
}
