// ONNX (NCHW images, [out, in] Gemm weights, [M, C/group, kh, kw] conv weights) against the graph's
// layouts (NHWC, Dense kernel [in, units], conv kernel [kh, kw, inC, outC], depthwise
// [kh, kw, C, mult]), in both directions, and the data of model inputs and outputs.
import { ShapeError } from "../../errors.ts";
import type { OnnxValueInfo, WeightBinding } from "./types.ts";

/** rowOrder[i] = the H, W, C position of element i of a C, H, W flattening. */
export function chwToHwcOrder(c: number, h: number, w: number): Int32Array {
  const order = new Int32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) order[(k * h + y) * w + x] = (y * w + x) * c + k;
  }
  return order;
}

type Layout = WeightBinding["layout"];

/**
 * For every element of the ONNX tensor (row-major over `dims`), its index in the graph's array.
 * Reading sets graph[map[i]] = onnx[i]; writing reads onnx[i] = graph[map[i]].
 */
function graphIndexMap(layout: Layout, dims: readonly number[], rowOrder?: Int32Array): Int32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const map = new Int32Array(n);
  const row = (i: number) => (rowOrder ? rowOrder[i] : i);
  switch (layout) {
    case "vector":
      for (let i = 0; i < n; i++) map[i] = i;
      return map;
    case "denseRows": {
      const [rows, units] = dims;
      for (let i = 0; i < rows; i++) for (let o = 0; o < units; o++) map[i * units + o] = row(i) * units + o;
      return map;
    }
    case "denseCols": {
      const [units, rows] = dims;
      for (let o = 0; o < units; o++) for (let i = 0; i < rows; i++) map[o * rows + i] = row(i) * units + o;
      return map;
    }
    case "conv":
    case "depthwise": {
      // conv: [M, C, kh, kw] → [kh, kw, C, M]; depthwise: [C·mult, 1, kh, kw] → [kh, kw, C·mult]
      // (the graph's [C, mult] flattens to output channel c·mult + j, ONNX's channel order).
      const [m, c, kh, kw] = dims;
      for (let o = 0; o < m; o++) {
        for (let k = 0; k < c; k++) {
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) map[((o * c + k) * kh + y) * kw + x] = ((y * kw + x) * c + k) * m + o;
          }
        }
      }
      return map;
    }
  }
}

/** The graph's values of a weight from the ONNX tensor's (times `scale`, rounded once to float32). */
export function toGraphWeight(values: Float32Array, layout: Layout, dims: readonly number[], rowOrder?: Int32Array, scale = 1): Float32Array {
  const map = graphIndexMap(layout, dims, rowOrder);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[map[i]] = scale === 1 ? values[i] : values[i] * scale;
  return out;
}

/** The ONNX tensor's values of a graph weight (the inverse of toGraphWeight with scale 1). */
export function toOnnxWeight(values: Float32Array, layout: Layout, dims: readonly number[], rowOrder?: Int32Array): Float32Array {
  const map = graphIndexMap(layout, dims, rowOrder);
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = values[map[i]];
  return out;
}

function perSample(info: OnnxValueInfo): number {
  return info.shape.reduce((a, b) => a * b, 1);
}

function move(info: OnnxValueInfo, data: Float32Array, rows: number, toGraph: boolean): Float32Array {
  const size = perSample(info);
  if (!(data instanceof Float32Array) || data.length !== rows * size) {
    throw new ShapeError(`"${info.name}" data has ${data instanceof Float32Array ? `length ${data.length}` : "no Float32Array"}: expected rows × ${size} (ONNX shape [${info.shape.join(", ")}]) = ${rows * size}`);
  }
  const l = info.layout;
  if (l.kind === "plain") return data.slice();
  const [c, h, w] = l.kind === "nchw" ? info.shape : l.chw;
  const order = chwToHwcOrder(c, h, w);
  const out = new Float32Array(data.length);
  for (let p = 0; p < rows; p++) {
    const base = p * size;
    for (let i = 0; i < size; i++) {
      if (toGraph) out[base + order[i]] = data[base + i];
      else out[base + i] = data[base + order[i]];
    }
  }
  return out;
}

/** A model input's data in ONNX order ([rows, C, H, W] for an image) → the graph's ([rows, H, W, C]). */
export function onnxToGraphLayout(info: OnnxValueInfo, data: Float32Array, rows: number): Float32Array {
  return move(info, data, rows, true);
}

/** A graph output's data → the ONNX order of the model's output (NHWC images back to NCHW). */
export function graphToOnnxLayout(info: OnnxValueInfo, data: Float32Array, rows: number): Float32Array {
  return move(info, data, rows, false);
}
