// Calibration samples from bytes or text, in any runtime: NumPy .npy ([samples, features] or
// [samples, H, W, C], float32, float64 or uint8) and JSON (an array of equal-length arrays of numbers). The Node
// helpers (net-trim/node) add reading them from files; the web page parses dropped files.
import { NonFiniteError, ShapeError, ValidationError } from "../errors.ts";

export interface SampleMatrix {
  /** [rows, cols] row-major. */
  data: Float32Array;
  rows: number;
  cols: number;
  /** Each sample's own shape when the file held more than two dimensions ([H, W, C] of images). */
  sampleShape?: number[];
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses .npy bytes (format versions 1.0, 2.0 and 3.0). Accepts little-endian float32 ('<f4'),
 * float64 ('<f8', rounded to float32) and uint8 ('|u1'), C order, shape [samples, features] or
 * [samples, ...sampleShape] (e.g. images [samples, H, W, C]: each sample flattened in C order).
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
  // Decimal integer literals only, as numpy writes them: Number() would also take 2e1, 20.0 and 0x14.
  const literals = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const dims = literals.map(Number);
  if (literals.some((s, i) => !/^[0-9]+$/.test(s) || !Number.isSafeInteger(dims[i]))) {
    throw new ValidationError(`${name}: shape`, "decimal integer literals ≥ 0, as numpy writes them", `(${shapeText})`);
  }
  if (dims.length < 2) {
    throw new ShapeError(
      `${name}: shape is (${dims.join(", ")}${dims.length === 1 ? "," : ""}), a ${dims.length}-D array: expected a 2-D array [samples, features] ` +
      "or one sample per row of a higher-dimensional array ([samples, H, W, C])" + (dims.length === 1 ? " (for one sample use x.reshape(1, -1))" : ""),
    );
  }
  // More than two dimensions: one sample per index of the first, flattened in C order.
  const rows = dims[0];
  const cols = dims.slice(1).reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const need = rows * cols * itemSize;
  const have = bytes.length - dataStart;
  if (have !== need) {
    throw new ShapeError(`${name}: data has ${have} bytes: expected ${rows} × ${cols} × ${itemSize} = ${need} bytes for shape (${dims.join(", ")}) '${descr}'`);
  }
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = read(dataStart + i * itemSize);
    // Checked after the float32 rounding: a float64 1e39 becomes Infinity here.
    if (!Number.isFinite(data[i])) throw new NonFiniteError(name, Math.floor(i / cols), i % cols, data[i]);
  }
  return dims.length > 2 ? { data, rows, cols, sampleShape: dims.slice(1) } : { data, rows, cols };
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
      if (!Number.isFinite(data[r * cols + c])) throw new NonFiniteError(name, r, c, data[r * cols + c]);
    }
  }
  return { data, rows, cols };
}
