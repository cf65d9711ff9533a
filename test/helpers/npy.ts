// A .npy writer for tests and benchmarks (the library reads .npy; it writes model files only).

/** A NumPy .npy (format 1.0) holding a C-order 2-D array. */
export function npy(data: Float32Array | Float64Array, rows: number, cols: number): Buffer {
  return npyOfShape(data, [rows, cols]);
}

/** A NumPy .npy (format 1.0) holding a C-order array of any shape (e.g. images [n, H, W, C]). */
export function npyOfShape(data: Float32Array | Float64Array, shape: number[]): Buffer {
  const descr = data instanceof Float64Array ? "<f8" : "<f4";
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n"; // data aligned to 64 bytes
  const pre = Buffer.alloc(10);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
