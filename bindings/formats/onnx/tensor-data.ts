// TensorProto values in and out: float32 / float16 / double from raw_data (little-endian) or the
// typed fields, int32/int64 for shapes, external data through the reader's callback; the encoding
// of float tensors (raw_data) and of sparse tensors (values + INT64 linear indices).
import { ModelFormatError } from "../model-format-error.ts";
import { DataType, EXTERNAL, int64, type SparseTensorProto, type TensorProto } from "./schema.ts";
import { floatToHalf, halfToFloat } from "../float16.ts";

const TYPE_NAMES: Record<number, string> = {
  0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING",
  9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
};

export function typeName(t: number | undefined): string {
  return TYPE_NAMES[t ?? 0] ?? `data_type ${t}`;
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(int64);
}

/** The largest tensor read (2^28 values, 1 GiB of float32): more is a corrupt file, not a model. */
const MAX_ELEMENTS = 2 ** 28;

function elementCount(dims: readonly number[], where = "tensor"): number {
  const n = dims.reduce((a, b) => a * b, 1);
  if (!dims.every((d) => Number.isInteger(d) && d >= 0) || n > MAX_ELEMENTS) {
    throw new ModelFormatError({ where: `${where} dims`, expected: `sizes ≥ 0 with at most ${MAX_ELEMENTS} values`, received: `[${dims.join(", ")}]` });
  }
  return n;
}

/** Resolves where a tensor's bytes are: raw_data, or its external file through `external`. */
export type ExternalLoader = (t: TensorProto, where: string) => Uint8Array;

function rawBytes(t: TensorProto, where: string, external: ExternalLoader): Uint8Array | undefined {
  if (t.data_location === EXTERNAL) return external(t, where);
  return t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
}

function fail(where: string, expected: string, received: string, reason?: string): never {
  throw new ModelFormatError({ where, expected, received, reason });
}

/** A FLOAT, FLOAT16 or DOUBLE tensor's values as float32. */
export function floatValues(t: TensorProto, where: string, external: ExternalLoader): Float32Array {
  const dims = tensorDims(t);
  const n = elementCount(dims, where);
  const type = t.data_type ?? 0;
  const raw = rawBytes(t, where, external);
  const size = type === DataType.FLOAT ? 4 : type === DataType.FLOAT16 ? 2 : type === DataType.DOUBLE ? 8 : 0;
  if (size === 0) fail(`${where} data_type`, "FLOAT, FLOAT16 or DOUBLE", typeName(type));
  if (raw) {
    if (raw.length !== n * size) fail(`${where} raw_data`, `${n * size} bytes (${n} × ${typeName(type)}, dims [${dims.join(", ")}])`, `${raw.length} bytes`);
    const out = new Float32Array(n);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) {
      out[i] = size === 4 ? view.getFloat32(4 * i, true) : size === 2 ? halfToFloat(view.getUint16(2 * i, true)) : view.getFloat64(8 * i, true);
    }
    return out;
  }
  // float16 bits live in int32_data, one per entry.
  const typed = type === DataType.FLOAT ? t.float_data : type === DataType.FLOAT16 ? t.int32_data : t.double_data;
  const values = typed ?? [];
  if (values.length !== n) fail(where, `${n} values (dims [${dims.join(", ")}]) in raw_data or the typed data field`, `${values.length}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = type === DataType.FLOAT16 ? halfToFloat(values[i] & 0xffff) : values[i];
  return out;
}

/** An INT64 or INT32 tensor's values (shapes, indices). */
export function intValues(t: TensorProto, where: string, external: ExternalLoader): number[] {
  const dims = tensorDims(t);
  const n = elementCount(dims, where);
  const type = t.data_type ?? 0;
  if (type !== DataType.INT64 && type !== DataType.INT32) fail(`${where} data_type`, "INT64 or INT32", typeName(type));
  const raw = rawBytes(t, where, external);
  const size = type === DataType.INT64 ? 8 : 4;
  if (raw) {
    if (raw.length !== n * size) fail(`${where} raw_data`, `${n * size} bytes (${n} × ${typeName(type)})`, `${raw.length} bytes`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(size === 8 ? Number(view.getBigInt64(8 * i, true)) : view.getInt32(4 * i, true));
    return out;
  }
  const values = type === DataType.INT64 ? (t.int64_data ?? []).map(int64) : [...(t.int32_data ?? [])];
  if (values.length !== n) fail(where, `${n} values (dims [${dims.join(", ")}])`, `${values.length}`);
  return values;
}

/** A sparse tensor made dense: values at their (linear or coordinate) indices, zeros elsewhere. */
export function sparseToDense(s: SparseTensorProto, where: string, external: ExternalLoader): { dims: number[]; values: Float32Array; dataType: number } {
  const dims = (s.dims ?? []).map(int64);
  if (!s.values || !s.indices) fail(where, "a SparseTensorProto with values and indices", `${s.values ? "no indices" : "no values"}`);
  const nz = floatValues(s.values, `${where} values`, external);
  const idx = intValues(s.indices, `${where} indices`, external);
  const idxDims = tensorDims(s.indices);
  const n = elementCount(dims, where);
  const rank = dims.length;
  const out = new Float32Array(n);
  const coordinates = idxDims.length === 2;
  if (coordinates ? idxDims[0] !== nz.length || idxDims[1] !== rank : idx.length !== nz.length) {
    fail(`${where} indices`, `[${nz.length}] linear indices or [${nz.length}, ${rank}] coordinates`, `dims [${idxDims.join(", ")}]`);
  }
  for (let k = 0; k < nz.length; k++) {
    let at = 0;
    if (coordinates) {
      for (let d = 0; d < rank; d++) {
        const c = idx[k * rank + d];
        if (!(c >= 0 && c < dims[d])) fail(`${where} indices[${k}]`, `coordinates inside [${dims.join(", ")}]`, `${c} on axis ${d}`);
        at = at * dims[d] + c;
      }
    } else at = idx[k];
    if (!(Number.isInteger(at) && at >= 0 && at < n)) fail(`${where} indices[${k}]`, `a linear index in 0..${n - 1}`, String(at));
    out[at] = nz[k];
  }
  return { dims, values: out, dataType: s.values.data_type ?? 0 };
}

/** Values as the little-endian bytes of a FLOAT or FLOAT16 tensor (float16 rounds to nearest). */
function floatBytes(values: Float32Array, dataType: number): Uint8Array {
  const half = dataType === DataType.FLOAT16;
  const out = new Uint8Array(values.length * (half ? 2 : 4));
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (half) view.setUint16(2 * i, floatToHalf(values[i]), true);
    else view.setFloat32(4 * i, values[i], true);
  }
  return out;
}

/**
 * The tensor `base` (name, doc_string, unknown fields kept) holding `values` in raw_data with
 * `dims` and `dataType`; any previous data field and external reference dropped.
 */
export function denseTensor(base: TensorProto, values: Float32Array, dims: readonly number[], dataType: number): TensorProto {
  const t: TensorProto = { name: base.name, dims: [...dims], data_type: dataType, raw_data: floatBytes(values, dataType) };
  if (base.doc_string) t.doc_string = base.doc_string;
  if (base.$unknowns) t.$unknowns = base.$unknowns;
  return t;
}

/** A value a sparse tensor must store: nonzeros, and −0 (so that the file decodes bit for bit). */
function isStored(v: number): boolean {
  return v !== 0 || Object.is(v, -0);
}

/** The nonzeros of `values` as a SparseTensorProto with [NNZ] INT64 linear indices (ascending). */
export function sparseTensor(name: string, values: Float32Array, dims: readonly number[], dataType: number): SparseTensorProto {
  const at: number[] = [];
  for (let i = 0; i < values.length; i++) if (isStored(values[i])) at.push(i);
  const nz = new Float32Array(at.length);
  const indexBytes = new Uint8Array(8 * at.length);
  const view = new DataView(indexBytes.buffer);
  at.forEach((i, k) => {
    nz[k] = values[i];
    view.setBigInt64(8 * k, BigInt(i), true);
  });
  return {
    values: { name, dims: [at.length], data_type: dataType, raw_data: floatBytes(nz, dataType) },
    indices: { dims: [at.length], data_type: DataType.INT64, raw_data: indexBytes },
    dims: [...dims],
  };
}

/** Bytes of the data a sparse encoding of `values` would hold, against the dense one. */
export function sparseIsSmaller(values: Float32Array, dataType: number): boolean {
  const size = dataType === DataType.FLOAT16 ? 2 : 4;
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (isStored(values[i])) nnz++;
  return nnz * (size + 8) < values.length * size;
}
