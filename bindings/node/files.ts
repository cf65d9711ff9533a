// Node-only file helpers: TF.js LayersModel directories and NumPy .npy files. (formats/ does the
// format work and runs anywhere; this file adds node:fs.)
import * as fs from "node:fs";
import * as path from "node:path";
import { ValidationError } from "../errors.ts";
import type { DenseNetwork } from "../network/network.ts";
import { ModelFormatError } from "../formats/model-format-error.ts";
import { parseLayersModel } from "../formats/tfjs/read.ts";
import type { WrittenLayersModel } from "../formats/tfjs/write.ts";
import { parseNpy, type SampleMatrix } from "../formats/samples.ts";
import { readFileBounded } from "./read-bounded.ts";

export { parseCalibrationJson, parseNpy, type SampleMatrix } from "../formats/samples.ts";
export { readOnnxModelFile } from "./onnx-file.ts";
// Per-layer jobs across machines (plan / solve / merge, README "Across machines"): Node only.
export { planNetwork, type PlanOptions, type Plan } from "../distributed/plan.ts";
export { solveJob, type SolveJobOptions, type SolveJobResult } from "../distributed/solve.ts";
export { solveNext, type ClaimOptions } from "../distributed/claim.ts";
export { mergeResults } from "../distributed/merge.ts";
export { planGraph, type GraphPlanOptions } from "../distributed/plan-graph.ts";
export { mergeGraphResults } from "../distributed/merge-graph.ts";
export { openWorkStore, type WorkStore, type WorkLocation } from "../distributed/store.ts";
export { readManifest } from "../distributed/problem.ts";
export type { Manifest, LayerProblemEntry, NodeProblemEntry, ProblemEntry, ResultRecord, FileRef } from "../distributed/format.ts";

/** A model.json and its weight files as bytes, not yet interpreted. */
export interface LayersModelBytes {
  /** The parsed model.json. */
  modelJson: Record<string, unknown>;
  /** One ArrayBuffer per weightsManifest group: that group's files concatenated in `paths` order. */
  weightData: ArrayBuffer[];
  /** Absolute path of model.json. */
  modelPath: string;
  /** Absolute paths of every group's files. */
  files: string[][];
}

export interface LayersModelFiles extends LayersModelBytes {
  /** The Dense network read from them. */
  network: DenseNetwork;
}

function exactBuffer(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

/**
 * Reads model.json (or `<dir>/model.json` when given a directory) and its weight files, resolved
 * relative to model.json, and parses them with parseLayersModel (a chain of Dense layers).
 */
export function readLayersModelDir(pathToModelJson: string): LayersModelFiles {
  const bytes = readLayersModelBytes(pathToModelJson);
  return { ...bytes, network: parseLayersModel(bytes.modelJson, bytes.weightData) };
}

/**
 * Reads model.json and its weight files without interpreting the topology: for
 * parseLayersModelGraph (any graph), or to try parseLayersModel first.
 */
export function readLayersModelBytes(pathToModelJson: string): LayersModelBytes {
  let modelPath = path.resolve(pathToModelJson);
  if (fs.existsSync(modelPath) && fs.statSync(modelPath).isDirectory()) modelPath = path.join(modelPath, "model.json");
  if (!fs.existsSync(modelPath)) {
    throw new ModelFormatError({ where: "model.json", file: modelPath, expected: "an existing file", received: `no file at ${modelPath}` });
  }
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(readFileBounded(modelPath, "model.json").toString("utf8"));
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError({ where: modelPath, file: modelPath, expected: "valid JSON (a TF.js model.json)", received: `a parse error: ${(e as Error).message}` });
  }
  if (typeof modelJson !== "object" || modelJson === null || Array.isArray(modelJson)) {
    throw new ModelFormatError({ where: modelPath, file: modelPath, expected: "a JSON object (a TF.js model.json)", received: Array.isArray(modelJson) ? "an array" : String(modelJson) });
  }
  const dir = path.dirname(modelPath);
  const manifest = (modelJson as Record<string, unknown>).weightsManifest;
  const files: string[][] = [];
  const weightData: ArrayBuffer[] = [];
  if (Array.isArray(manifest)) {
    manifest.forEach((g, gi) => {
      const paths = (g as { paths?: unknown })?.paths;
      if (!Array.isArray(paths)) return; // parseLayersModel reports it
      const abs: string[] = [];
      const parts: Buffer[] = [];
      paths.forEach((p, pi) => {
        if (typeof p !== "string") return;
        const file = path.resolve(dir, p);
        // As for ONNX external data: a model file names its weights inside its own folder, never
        // elsewhere (a downloaded model.json must not make net-trim read, and copy into the pruned
        // weights, any file of the machine).
        const inside = path.relative(dir, file);
        if (inside === "" || inside.startsWith("..") || path.isAbsolute(inside)) {
          throw new ModelFormatError({ where: `weightsManifest[${gi}].paths[${pi}] "${p}"`, file, expected: `a file inside ${dir} (the model's folder)`, received: file });
        }
        if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
          throw new ModelFormatError({
            where: `weightsManifest[${gi}].paths[${pi}] "${p}"`, file,
            reason: "missing weight file",
            expected: `a file ${file} (resolved relative to ${modelPath})`,
            received: "no such file",
          });
        }
        abs.push(file);
        parts.push(readFileBounded(file, `weightsManifest[${gi}].paths[${pi}] "${p}"`));
      });
      files.push(abs);
      weightData.push(exactBuffer(Buffer.concat(parts)));
    });
  }
  return { modelJson: modelJson as Record<string, unknown>, weightData, modelPath, files };
}

/** Writes writeLayersModel's output as `<outDir>/model.json` and `<outDir>/weights.bin`; returns both paths. */
export function writeLayersModelDir(outDir: string, written: WrittenLayersModel): { modelPath: string; weightsPath: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const modelPath = path.join(outDir, "model.json");
  const weightsPath = path.join(outDir, written.weightsFile);
  fs.writeFileSync(weightsPath, new Uint8Array(written.weightData));
  fs.writeFileSync(modelPath, JSON.stringify(written.modelJson));
  return { modelPath, weightsPath };
}

/** Reads a NumPy .npy file holding a 2-D [samples, features] array ('<f4', '<f8' or '|u1', C order). */
export function readNpy(file: string): SampleMatrix {
  if (!fs.existsSync(file)) throw new ValidationError("npy file", "an existing .npy file", file);
  return parseNpy(readFileBounded(file, "npy file"), file);
}
