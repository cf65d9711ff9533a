// TF.js's own weight quantization, offered when writing a graph (lossy, smaller files that TF.js
// loads as they are): "float16" rounds each value to the nearest half; "uint8"/"uint16" store
// q with value = q·scale + min (TF.js's dequantization), min nudged to −z·scale for an integer z
// so that a pruned zero dequantizes to exactly 0 and stays a zero. Per weight, error ≤ scale
// (half a step, plus at most half a step from the nudge at the range's ends).
import { halfBitsOf } from "../float16.ts";
import type { EncodedWeight } from "./weight-encoding.ts";

export type WeightQuantization = "uint8" | "uint16" | "float16";

function halfBytes(values: Float32Array): Uint8Array | undefined {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint8Array(2 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const h = halfBitsOf(bits[i]);
    if ((h & 0x7c00) === 0x7c00) return undefined; // beyond ±65504: keep float32
    view.setUint16(2 * i, h, true);
  }
  return out;
}

function affine(values: Float32Array, dtype: "uint8" | "uint16"): EncodedWeight {
  const levels = dtype === "uint8" ? 255 : 65535;
  let lo = 0, hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? (hi - lo) / levels : 1;
  const zero = Math.round(-lo / scale);
  const min = -(zero * scale); // q = zero gives zero·scale + min = 0 exactly
  const width = dtype === "uint8" ? 1 : 2;
  const out = new Uint8Array(width * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const q = values[i] === 0 ? zero : Math.min(levels, Math.max(0, Math.round((values[i] - min) / scale)));
    if (width === 1) out[i] = q;
    else view.setUint16(2 * i, q, true);
  }
  return { dtype: "float32", quantization: { dtype, scale, min }, bytes: out };
}

/** A float32 weight in TF.js's quantized storage (float32 kept when float16 cannot hold a value). */
export function quantizeWeight(values: Float32Array, dtype: WeightQuantization): EncodedWeight | undefined {
  if (dtype !== "float16") return affine(values, dtype);
  const bytes = halfBytes(values);
  return bytes ? { dtype: "float32", quantization: { dtype: "float16" }, bytes } : undefined;
}
