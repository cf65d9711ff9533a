// Node-only file helpers: TF.js LayersModel directories, NumPy .npy files and JSON calibration data.
// (formats/tfjs/ does the format work and runs anywhere; this file adds node:fs.)
import * as fs from "node:fs";
import * as path from "node:path";
import { ValidationError, ShapeError } from "../errors.ts";
import type { DenseNetwork } from "../network/network.ts";
import { ModelFormatError } from "../formats/model-format-error.ts";
import { parseLayersModel } from "../formats/tfjs/read.ts";
import type { WrittenLayersModel } from "../formats/tfjs/write.ts";

export interface LayersModelFiles {
  /** The parsed model.json. */
  modelJson: Record<string, unknown>;
  /** One ArrayBuffer per weightsManifest group: that group's files concatenated in `paths` order. */
  weightData: ArrayBuffer[];
  /** The Dense network read from them. */
  network: DenseNetwork;
  /** Absolute path of model.json. */
  modelPath: string;
  /** Absolute paths of every group's files. */
  files: string[][];
}

function exactBuffer(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

/**
 * Reads model.json (or `<dir>/model.json` when given a directory) and its weight files, resolved
 * relative to model.json, and parses them with parseLayersModel.
 */
export function readLayersModelDir(pathToModelJson: string): LayersModelFiles {
  let modelPath = path.resolve(pathToModelJson);
  if (fs.existsSync(modelPath) && fs.statSync(modelPath).isDirectory()) modelPath = path.join(modelPath, "model.json");
  if (!fs.existsSync(modelPath)) {
    throw new ModelFormatError({ where: "model.json", file: modelPath, expected: "an existing file", received: `no file at ${modelPath}` });
  }
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(fs.readFileSync(modelPath, "utf8"));
  } catch (e) {
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
        if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
          throw new ModelFormatError({
            where: `weightsManifest[${gi}].paths[${pi}] "${p}"`, file,
            reason: "missing weight file",
            expected: `a file ${file} (resolved relative to ${modelPath})`,
            received: "no such file",
          });
        }
        abs.push(file);
        parts.push(fs.readFileSync(file));
      });
      files.push(abs);
      weightData.push(exactBuffer(Buffer.concat(parts)));
    });
  }
  const network = parseLayersModel(modelJson, weightData);
  return { modelJson: modelJson as Record<string, unknown>, weightData, network, modelPath, files };
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

// ---------------------------------------------------------------------------------------------
// Calibration data

export interface SampleMatrix {
  /** [rows, cols] row-major. */
  data: Float32Array;
  rows: number;
  cols: number;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads a NumPy .npy file holding a 2-D [samples, features] array ('<f4', '<f8' or '|u1', C order). */
export function readNpy(file: string): SampleMatrix {
  if (!fs.existsSync(file)) throw new ValidationError("npy file", "an existing .npy file", file);
  return parseNpy(fs.readFileSync(file), file);
}

/**
 * Parses .npy bytes (format versions 1.0, 2.0 and 3.0). Accepts little-endian float32 ('<f4'),
 * float64 ('<f8', rounded to float32) and uint8 ('|u1'), C order, 2-D shape [samples, features].
 */
export function parseNpy(buffer: ArrayBuffer | Uint8Array, name = "npy"): SampleMatrix {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicOk = bytes.length >= 10 && NPY_MAGIC.every((b, i) => bytes[i] === b);
  if (!magicOk) {
    const head = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new ValidationError(`${name}: magic`, 'a NumPy .npy file starting with "\\x93NUMPY" (93 4e 55 4d 50 59)', `bytes ${head || "(empty file)"}`);
  }
  const major = bytes[6], minor = bytes[7];
  let headerLen: number, headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new ValidationError(`${name}: header`, "at least 12 bytes", `${bytes.length} bytes`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new ValidationError(`${name}: format version`, "1.0, 2.0 or 3.0", `${major}.${minor}`);
  }
  if (headerStart + headerLen > bytes.length) {
    throw new ValidationError(`${name}: header length`, `at most ${bytes.length - headerStart} bytes (the file size)`, headerLen);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new ValidationError(`${name}: header`, "a dict with 'descr', 'fortran_order' and 'shape'", header.trim());
  }
  let itemSize: number;
  let read: (off: number) => number;
  switch (descr) {
    case "<f4": itemSize = 4; read = (o) => view.getFloat32(o, true); break;
    case "<f8": itemSize = 8; read = (o) => view.getFloat64(o, true); break;
    case "|u1": case "<u1": itemSize = 1; read = (o) => bytes[o]; break;
    default:
      throw new ValidationError(`${name}: dtype (descr)`,
        "'<f4' (float32), '<f8' (float64) or '|u1' (uint8), little-endian",
        /^>/.test(descr) ? `'${descr}' (big-endian; save with .astype('<f4'))` : `'${descr}'`);
  }
  if (fortran === "True") {
    throw new ValidationError(`${name}: fortran_order`, "False (C order; save np.ascontiguousarray(x))", "True (Fortran order)");
  }
  const dims = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new ValidationError(`${name}: shape`, "non-negative integers", `(${shapeText})`);
  if (dims.length !== 2) {
    throw new ShapeError(
      `${name}: shape is (${dims.join(", ")}${dims.length === 1 ? "," : ""}), a ${dims.length}-D array: expected a 2-D array [samples, features]` +
      (dims.length === 1 ? " (for one sample use x.reshape(1, -1))" : dims.length > 2 ? " (flatten each sample: x.reshape(len(x), -1))" : ""),
    );
  }
  const [rows, cols] = dims;
  const dataStart = headerStart + headerLen;
  const need = rows * cols * itemSize;
  const have = bytes.length - dataStart;
  if (have !== need) {
    throw new ShapeError(`${name}: data has ${have} bytes: expected ${rows} × ${cols} × ${itemSize} = ${need} bytes for shape (${rows}, ${cols}) '${descr}'`);
  }
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = read(dataStart + i * itemSize);
  return { data, rows, cols };
}

/** Parses calibration samples given as a JSON array of equal-length arrays of numbers. */
export function parseCalibrationJson(text: string, name = "calibration JSON"): SampleMatrix {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(name, "valid JSON (an array of arrays of numbers)", `a parse error: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length === 0) throw new ValidationError(name, "a non-empty array of sample arrays", v);
  const rows = v.length;
  if (!Array.isArray(v[0]) || v[0].length === 0) throw new ValidationError(`${name}[0]`, "a non-empty array of numbers", v[0]);
  const cols = v[0].length;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = v[r];
    if (!Array.isArray(row)) throw new ValidationError(`${name}[${r}]`, "an array of numbers", row);
    if (row.length !== cols) throw new ShapeError(`${name}[${r}] has ${row.length} entries: expected ${cols}, as ${name}[0]`);
    for (let c = 0; c < cols; c++) {
      const x = row[c];
      if (typeof x !== "number") throw new ValidationError(`${name}[${r}][${c}]`, "a number", x);
      data[r * cols + c] = x;
    }
  }
  return { data, rows, cols };
}
