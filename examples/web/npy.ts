// A small browser-side .npy reader for calibration samples: 2-D [samples, features], C order,
// little-endian float32 or float64 (rounded to float32, what the solver uses), or uint8.
// (The library's own reader lives in net-trim/node, which needs node:fs.)

export interface Samples {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** A file the page cannot use; the message is shown as is. */
export class FileProblem extends Error {
  override name = "FileProblem";
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(buffer: ArrayBuffer, name: string): Samples {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FileProblem(`${name} is not a NumPy .npy file (it does not start with "\\x93NUMPY"). Save the samples with numpy.save("${name}", x).`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) throw new FileProblem(`${name}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 or 3.0)`);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw new FileProblem(`${name}: the .npy header is cut off`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLen > bytes.length) throw new FileProblem(`${name}: the .npy header is longer than the file (${bytes.length} bytes): the file is cut off`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FileProblem(`${name}: the .npy header has no descr/fortran_order/shape: ${header.trim().slice(0, 120)}`);
  }
  const itemSize = descr === "<f4" ? 4 : descr === "<f8" ? 8 : descr === "|u1" || descr === "<u1" ? 1 : 0;
  if (itemSize === 0) {
    throw new FileProblem(`${name}: dtype '${descr}' is not supported: save float32 or float64, little-endian (x.astype("<f4"))`);
  }
  if (fortran === "True") throw new FileProblem(`${name} is in Fortran order: save numpy.ascontiguousarray(x)`);
  const dims = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (dims.length !== 2 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new FileProblem(`${name} has shape (${shapeText.trim()}): expected a 2-D array [samples, features]${dims.length > 2 ? " (flatten each sample: x.reshape(len(x), -1))" : ""}`);
  }
  const [rows, cols] = dims;
  if (rows === 0 || cols === 0) throw new FileProblem(`${name} is empty (shape ${rows} × ${cols})`);
  const start = headerStart + headerLen;
  const need = rows * cols * itemSize;
  if (bytes.length - start < need) {
    throw new FileProblem(`${name}: shape ${rows} × ${cols} needs ${need} bytes of data but the file has ${bytes.length - start}: the file is cut off`);
  }
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const o = start + i * itemSize;
    const v = itemSize === 4 ? view.getFloat32(o, true) : itemSize === 8 ? view.getFloat64(o, true) : bytes[o];
    if (!Number.isFinite(v)) throw new FileProblem(`${name}: sample ${Math.floor(i / cols)}, feature ${i % cols} is ${v}`);
    data[i] = v;
  }
  return { data, rows, cols };
}
