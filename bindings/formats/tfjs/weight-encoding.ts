// Weights written back in the dtype they were read from when that is lossless: float16 (or float16
// quantization) when every value is a half-precision number, int32 when every value is an integer,
// uint8/uint16 quantization when every value is q·scale + min for an integer q in range (pruned
// zeros usually are not); float32 otherwise.
import type { ManifestEntry } from "./weights.ts";

export interface EncodedWeight {
  dtype: "float32" | "int32" | "float16";
  quantization?: { dtype: string; scale?: number; min?: number };
  bytes: Uint8Array;
}

/** The IEEE half-precision bits of v when v is exactly a half, else −1. */
function exactHalfBits(v: number): number {
  if (!Number.isFinite(v)) return -1;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a < 2 ** -14) {
    const m = a / 2 ** -24; // subnormal: a multiple of 2^-24
    return Number.isInteger(m) ? sign | m : -1;
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e > 15) return -1;
  const m = (a / 2 ** e - 1) * 1024;
  return Number.isInteger(m) ? sign | ((e + 15) << 10) | m : -1;
}

function float32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return out;
}

function halfBytes(values: Float32Array): Uint8Array | undefined {
  const out = new Uint8Array(2 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const h = exactHalfBits(values[i]);
    if (h < 0) return undefined;
    view.setUint16(2 * i, h, true);
  }
  return out;
}

function int32Bytes(values: Float32Array): Uint8Array | undefined {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) return undefined;
    view.setInt32(4 * i, v, true);
  }
  return out;
}

function affineBytes(values: Float32Array, e: ManifestEntry): Uint8Array | undefined {
  const q = e.quantization!;
  const scale = q.scale!, min = q.min!;
  const width = q.dtype === "uint8" ? 1 : 2, max = q.dtype === "uint8" ? 255 : 65535;
  const out = new Uint8Array(width * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const k = scale === 0 ? 0 : Math.round((values[i] - min) / scale);
    const back = e.dtype === "int32" ? Math.round(k * scale + min) : Math.fround(k * scale + min);
    if (!(k >= 0 && k <= max) || back !== values[i]) return undefined;
    if (width === 1) out[i] = k;
    else view.setUint16(2 * i, k, true);
  }
  return out;
}

/** `values` in the storage of manifest entry `e` when lossless, else float32. */
export function encodeWeight(e: ManifestEntry, values: Float32Array): EncodedWeight {
  const q = e.quantization;
  if (q?.dtype === "float16") {
    const bytes = halfBytes(values);
    if (bytes) return { dtype: "float32", quantization: { dtype: "float16" }, bytes };
  } else if (q) {
    const bytes = affineBytes(values, e);
    if (bytes) return { dtype: e.dtype === "int32" ? "int32" : "float32", quantization: { dtype: q.dtype, scale: q.scale, min: q.min }, bytes };
  } else if (e.dtype === "float16") {
    const bytes = halfBytes(values);
    if (bytes) return { dtype: "float16", bytes };
  } else if (e.dtype === "int32") {
    const bytes = int32Bytes(values);
    if (bytes) return { dtype: "int32", bytes };
  }
  return { dtype: "float32", bytes: float32Bytes(values) };
}
