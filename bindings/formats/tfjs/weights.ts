// The weights manifest of a TF.js LayersModel: entries and groups, decoding of every stored
// dtype (float32, int32, float16, quantized uint8/uint16/float16), and the mapping of manifest
// names to each Dense layer's kernel and bias.
import { ModelFormatError } from "../model-format-error.ts";
import { hasOwn, isObject, product, shapeStr, show, type Json } from "../json-helpers.ts";
import type { DenseTopo } from "./topology.ts";
import { halfToFloat } from "../float16.ts";

export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
  /** "model" (default) or "optimizer". */
  group: string;
  /** Index of the manifest group and within it. */
  groupIndex: number;
  index: number;
  where: string;
}

export const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Also used by the writer (tfjs-write.ts). */
export function readManifest(modelJson: Json): { entries: ManifestEntry[]; groups: { paths: string[]; entries: ManifestEntry[] }[] } {
  const m = modelJson.weightsManifest;
  if (!Array.isArray(m)) {
    throw new ModelFormatError({ where: "model.json weightsManifest", expected: "an array of groups {paths, weights}", received: show(m) });
  }
  const entries: ManifestEntry[] = [];
  const groups = m.map((g, gi) => {
    const gw = `weightsManifest[${gi}]`;
    if (!isObject(g)) throw new ModelFormatError({ where: gw, expected: "a group {paths, weights}", received: show(g) });
    if (!Array.isArray(g.paths) || !g.paths.every((p) => typeof p === "string")) {
      throw new ModelFormatError({ where: `${gw}.paths`, expected: "an array of file names", received: show(g.paths) });
    }
    if (!Array.isArray(g.weights)) throw new ModelFormatError({ where: `${gw}.weights`, expected: "an array of weight entries", received: show(g.weights) });
    const ge = g.weights.map((w, wi): ManifestEntry => {
      const ww = `${gw}.weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== "string") throw new ModelFormatError({ where: ww, expected: "an entry {name, shape, dtype}", received: show(w) });
      const where = `${ww} "${w.name}"`;
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new ModelFormatError({ where: `${where} shape`, expected: "an array of non-negative integers", received: show(w.shape) });
      }
      const dtype = w.dtype === undefined ? "float32" : w.dtype;
      if (typeof dtype !== "string" || !(hasOwn(DTYPE_BYTES, dtype) || dtype === "string")) {
        throw new ModelFormatError({ where: `${where} dtype`, expected: "one of float32, int32, float16, bool, complex64, string", received: show(dtype) });
      }
      let quantization: ManifestEntry["quantization"];
      if (w.quantization !== undefined && w.quantization !== null) {
        const q = w.quantization;
        if (!isObject(q) || typeof q.dtype !== "string" || !hasOwn(QUANT_BYTES, q.dtype)) {
          throw new ModelFormatError({ where: `${where} quantization.dtype`, expected: "uint8, uint16 or float16", received: show(isObject(q) ? q.dtype : q) });
        }
        if (q.dtype === "float16" && dtype !== "float32") {
          throw new ModelFormatError({ where: `${where} quantization`, expected: "float16 quantization of a float32 weight", received: `dtype ${show(dtype)}` });
        }
        if (q.dtype !== "float16") {
          if (typeof q.scale !== "number" || !Number.isFinite(q.scale) || typeof q.min !== "number" || !Number.isFinite(q.min)) {
            throw new ModelFormatError({ where: `${where} quantization`, expected: `finite numbers scale and min for ${q.dtype} quantization`, received: `scale ${show(q.scale)}, min ${show(q.min)}` });
          }
          if (dtype !== "float32" && dtype !== "int32") {
            throw new ModelFormatError({ where: `${where} quantization`, expected: `${q.dtype} quantization of a float32 or int32 weight`, received: `dtype ${show(dtype)}` });
          }
        }
        quantization = { dtype: q.dtype, scale: q.scale as number | undefined, min: q.min as number | undefined };
      }
      return {
        name: w.name, shape: w.shape as number[], dtype, quantization,
        group: typeof w.group === "string" ? w.group : "model", groupIndex: gi, index: wi, where,
      };
    });
    entries.push(...ge);
    return { paths: g.paths as string[], entries: ge };
  });
  return { entries, groups };
}

export function storedAs(e: ManifestEntry): string {
  return e.quantization ? `${e.quantization.dtype}-quantized` : e.dtype;
}

export interface Decoded {
  entry: ManifestEntry;
  /** Numeric values as float32 (undefined for bool/string/complex64 weights). */
  values?: Float32Array;
}

function toBytes(x: unknown, where: string): Uint8Array {
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new ModelFormatError({ where, expected: "an ArrayBuffer", received: show(x === undefined ? undefined : Object.prototype.toString.call(x)) });
}

export function decodeGroup(entries: ManifestEntry[], bytes: Uint8Array, gi: number, paths: string[]): Decoded[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files = paths.length ? paths.map((p) => `"${p}"`).join(" + ") : "(no files)";
  const where = `weightsManifest[${gi}] (files ${files})`;
  // Byte ranges first (strings are length-prefixed, so walk the data for them).
  const ranges: [number, number][] = [];
  let offset = 0;
  let short: ManifestEntry | undefined;
  for (const e of entries) {
    const size = product(e.shape);
    let len: number;
    if (e.quantization) len = size * QUANT_BYTES[e.quantization.dtype];
    else if (e.dtype === "string") {
      len = 0;
      for (let i = 0; i < size; i++) {
        if (offset + len + 4 > bytes.length) { len = Infinity; break; }
        len += 4 + view.getUint32(offset + len, true);
      }
    } else len = size * DTYPE_BYTES[e.dtype];
    if (!short && offset + len > bytes.length) short = e;
    ranges.push([offset, offset + len]);
    offset += len;
  }
  if (offset !== bytes.length) {
    const detail = short
      ? `weight "${short.name}" (${storedAs(short)} ${shapeStr(short.shape)}) needs bytes ${ranges[entries.indexOf(short)][0]}..${ranges[entries.indexOf(short)][1]} but the data ends at ${bytes.length}`
      : `${bytes.length - offset} bytes left over after the last weight "${entries[entries.length - 1]?.name ?? "(none)"}"`;
    throw new ModelFormatError({
      where, code: "shape_mismatch", file: paths[paths.length - 1],
      reason: `the group's data (its files concatenated) ${offset > bytes.length ? "is too short" : "is too long"} for its manifest: ${detail}`,
      expected: Number.isFinite(offset) ? `${offset} bytes` : `more than ${bytes.length} bytes`,
      received: `${bytes.length} bytes`,
    });
  }
  return entries.map((e, k) => {
    const [start] = ranges[k];
    const n = product(e.shape);
    const q = e.quantization;
    if (q) {
      const values = new Float32Array(n);
      if (q.dtype === "float16") {
        for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(start + 2 * i, true));
      } else {
        const scale = q.scale!, min = q.min!;
        const round = e.dtype === "int32";
        for (let i = 0; i < n; i++) {
          const v = q.dtype === "uint8" ? bytes[start + i] : view.getUint16(start + 2 * i, true);
          // An int32 has no −0 (TF.js decodes into an Int32Array): + 0 turns Math.round's −0 into 0.
          values[i] = round ? Math.round(v * scale + min) + 0 : v * scale + min;
        }
      }
      return { entry: e, values };
    }
    if (e.dtype === "float32") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(start + 4 * i, true);
      return { entry: e, values };
    }
    if (e.dtype === "int32") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getInt32(start + 4 * i, true);
      return { entry: e, values };
    }
    if (e.dtype === "float16") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(start + 2 * i, true));
      return { entry: e, values };
    }
    return { entry: e }; // bool, string, complex64: layout known, not a Dense weight
  });
}

/**
 * The weight data of each manifest group: given one ArrayBuffer per group, or a single
 * ArrayBuffer holding every group's data in manifest order. Also used by the graph reader.
 */
export function splitWeightData(groups: { entries: ManifestEntry[] }[], weightData: ArrayBuffer | ArrayBuffer[]): Uint8Array[] {
  let groupBytes: Uint8Array[];
  if (Array.isArray(weightData)) {
    if (weightData.length !== groups.length) {
      throw new ModelFormatError({
        where: "weightData",
        expected: `one ArrayBuffer per weightsManifest group (${groups.length})`,
        received: `an array of ${weightData.length} buffers`,
      });
    }
    groupBytes = weightData.map((b, i) => toBytes(b, `weightData[${i}]`));
  } else {
    const all = toBytes(weightData, "weightData");
    if (groups.length === 1) groupBytes = [all];
    else {
      // Sizes are fixed unless a group holds strings; walk groups in order.
      groupBytes = [];
      let off = 0;
      for (const [gi, g] of groups.entries()) {
        let need = 0;
        for (const e of g.entries) {
          if (e.dtype === "string" && !e.quantization) {
            throw new ModelFormatError({ where: e.where, expected: "per-group weight data (an array of ArrayBuffers) for string weights", received: "one ArrayBuffer for all groups" });
          }
          need += product(e.shape) * (e.quantization ? QUANT_BYTES[e.quantization.dtype] : DTYPE_BYTES[e.dtype]);
        }
        const end = gi === groups.length - 1 ? all.length : Math.min(off + need, all.length);
        groupBytes.push(all.subarray(Math.min(off, all.length), end));
        off = end;
      }
    }
  }
  return groupBytes;
}

/** Which manifest entries are each Dense layer's kernel and bias (by name, then order and shape). */
/** Also used by the writer (tfjs-write.ts). */
export function mapWeights(dense: DenseTopo[], entries: ManifestEntry[]): { kernel: ManifestEntry; bias?: ManifestEntry }[] {
  const model = entries.filter((e) => e.group !== "optimizer");
  const claimed = new Set<ManifestEntry>();
  const result: { kernel: ManifestEntry; bias?: ManifestEntry }[] = [];
  let cursor = 0; // next manifest position for the order fallback
  for (let li = 0; li < dense.length; li++) {
    const L = dense[li];
    const free = model.filter((e) => !claimed.has(e));
    let cands = free.filter((e) => e.name.startsWith(`${L.name}/`));
    if (cands.length === 0) cands = free.filter((e) => e.name.split("/").slice(0, -1).includes(L.name));
    let kernel: ManifestEntry | undefined;
    let bias: ManifestEntry | undefined;
    const layerWhereStr = `Dense layer "${L.name}"`;
    if (cands.length > 0) {
      kernel = cands.find((e) => /(^|\/)kernel(:\d+)?$/.test(e.name)) ?? cands.find((e) => e.shape.length === 2);
      bias = cands.find((e) => /(^|\/)bias(:\d+)?$/.test(e.name)) ?? cands.find((e) => e.shape.length === 1 && e !== kernel);
      const extra = cands.filter((e) => e !== kernel && e !== bias);
      if (extra.length > 0) {
        throw new ModelFormatError({
          where: layerWhereStr, layer: L.name, className: "Dense",
          reason: "the manifest has weights under this layer's name that a Dense layer does not have",
          expected: `${L.name}/kernel${L.useBias ? ` and ${L.name}/bias` : ""}`,
          received: cands.map((e) => `"${e.name}" ${shapeStr(e.shape)}`).join(", "),
        });
      }
    } else {
      // No weight carries the layer's name: take the next unclaimed weights in manifest order.
      const rest = model.slice(cursor).filter((e) => !claimed.has(e));
      kernel = rest[0];
      bias = L.useBias ? rest[1] : undefined;
    }
    if (!kernel) {
      throw new ModelFormatError({
        where: layerWhereStr, layer: L.name, className: "Dense",
        reason: "missing weight",
        expected: `a kernel weight "${L.name}/kernel" of shape [inputs, ${L.units}] in weightsManifest`,
        received: cands.length ? cands.map((e) => `"${e.name}"`).join(", ") : "no weight for this layer",
      });
    }
    if (kernel.shape.length !== 2 || kernel.shape[1] !== L.units) {
      throw new ModelFormatError({
        where: `${layerWhereStr} kernel ${kernel.where}`, layer: L.name, className: "Dense", code: "shape_mismatch",
        expected: `shape [inputs, ${L.units}] (units = ${L.units})`, received: shapeStr(kernel.shape),
      });
    }
    if (L.useBias) {
      if (!bias) {
        throw new ModelFormatError({
          where: layerWhereStr, layer: L.name, className: "Dense", reason: "missing weight",
          expected: `a bias weight "${L.name}/bias" of shape [${L.units}] (use_bias is true)`,
          received: "no bias weight for this layer",
        });
      }
      if (bias.shape.length !== 1 || bias.shape[0] !== L.units) {
        throw new ModelFormatError({
          where: `${layerWhereStr} bias ${bias.where}`, layer: L.name, className: "Dense", code: "shape_mismatch",
          expected: `shape [${L.units}]`, received: shapeStr(bias.shape),
        });
      }
    } else if (bias) {
      throw new ModelFormatError({
        where: layerWhereStr, layer: L.name, className: "Dense",
        reason: "use_bias is false but the manifest has a bias for it",
        expected: "no bias weight", received: `"${bias.name}" ${shapeStr(bias.shape)}`,
      });
    }
    for (const e of [kernel, bias]) if (e && !(hasOwn(DTYPE_BYTES, e.dtype) && e.dtype !== "bool" && e.dtype !== "complex64")) {
      throw new ModelFormatError({ where: `${e.where} dtype`, layer: L.name, className: "Dense", reason: "a Dense weight must be numeric", expected: "float32, int32 or float16", received: show(e.dtype) });
    }
    claimed.add(kernel);
    if (bias) claimed.add(bias);
    cursor = Math.max(cursor, model.indexOf(kernel) + 1, bias ? model.indexOf(bias) + 1 : 0);
    result.push({ kernel, bias });
  }
  const unused = model.filter((e) => !claimed.has(e));
  if (unused.length > 0) {
    throw new ModelFormatError({
      where: unused[0].where,
      reason: "this weight belongs to no Dense layer of the topology (net-trim would drop it silently otherwise)",
      expected: `only the kernels and biases of ${dense.map((d) => `"${d.name}"`).join(", ")}`,
      received: `${unused.length} other weight(s): ${unused.map((e) => `"${e.name}"`).join(", ")}`,
    });
  }
  return result;
}
