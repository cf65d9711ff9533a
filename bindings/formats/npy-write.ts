// NumPy .npy bytes (format 1.0, little-endian float32, C order) for any runtime. The same array
// always gives the same bytes: the header is fixed text padded so the data starts on a multiple
// of 64 bytes, as NumPy writes it. samples.ts reads them back.

/** A .npy file holding `data` with the given shape (`data.length` must be the shape's product). */
export function npyBytes(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npyBytes: shape (${shape.join(", ")}) holds ${count} values, data has ${data.length}`);
  const dims = `${shape.join(", ")}${shape.length === 1 ? "," : ""}`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays use the platform's byte order: little-endian on every platform net-trim runs on.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
