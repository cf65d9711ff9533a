// Lays out each Dense/conv node's weights once in the runtime's memory: as the CSR of the kernel's
// rows (inputs or conv taps; values, output byte offsets, row pointers) or as a dense [rows][m4]
// block (m4 = outputs rounded up to 4, zero padded), plus the bias [m4]. Sizes are known before
// anything is written, so the memory needed is checked first.
import { chooseKernel, type KernelChoice } from "./break-even.ts";
import type { PrunableNode } from "../network/graph/types.ts";

/** One prunable node's weights in wasm memory (byte addresses relative to the weights' base until placed). */
export interface PackedLayer {
  node: PrunableNode;
  kernel: "sparse" | "dense";
  /** Kernel rows (Dense inputs, or kh·kw·inC conv taps) and outputs per row's product. */
  rows: number;
  outputs: number;
  nonzeros: number;
  density: number;
  bytes: number;
  /** Byte addresses, set by writePacked. */
  rowPtr: number; offsets: number; vals: number; dense: number; bias: number;
  /**
   * Sparse Dense and depthwise layers: the CSR (rowPtr, offsets, vals); depthwise also, per input
   * channel, its taps with nonzeros (tapStart [c + 1], taps: ky << 16 | kx). Sparse Conv2D: per
   * filter its nonzeros (rowPtr = fStart [filters + 1], offsets = taps c << 16 | ky << 8 | kx, vals).
   */
  tapStart: number; taps: number;
}

const up4 = (x: number) => (x + 3) & ~3;
const align16 = (x: number) => (x + 15) & ~15;

function countNonzeros(a: Float32Array): number {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) k++;
  return k;
}

function inputChannels(node: PrunableNode): number {
  return node.op === "dense" ? 0 : node.kernel.length / (node.kernelSize[0] * node.kernelSize[1] * (node.op === "conv2d" ? node.filters : node.depthMultiplier));
}

/** Per input channel, the (ky, kx) taps whose CSR row has nonzeros, written at `p`; returns the next free byte. */
function writeTaps(layer: PackedLayer, memory: ArrayBuffer, p: number): number {
  const node = layer.node as Exclude<PrunableNode, { op: "dense" }>;
  const c = inputChannels(node), [kh, kw] = node.kernelSize;
  const rowPtr = new Int32Array(memory, layer.rowPtr, layer.rows + 1);
  layer.tapStart = p; p += align16((c + 1) * 4);
  layer.taps = p; p += align16(layer.rows * 4);
  const tapStart = new Int32Array(memory, layer.tapStart, c + 1), taps = new Int32Array(memory, layer.taps, layer.rows);
  let t = 0;
  for (let ci = 0; ci < c; ci++) {
    tapStart[ci] = t;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const r = (ky * kw + kx) * c + ci;
        if (rowPtr[r + 1] > rowPtr[r]) taps[t++] = (ky << 16) | kx;
      }
    }
  }
  tapStart[c] = t;
  return p;
}

/** A sparse Conv2D's nonzeros listed per filter in (c, ky, kx) order, written at `p`; returns the next free byte. */
function writeFilterTaps(layer: PackedLayer, memory: ArrayBuffer, p: number): number {
  const node = layer.node as Extract<PrunableNode, { op: "conv2d" }>;
  const f = node.filters, c = inputChannels(node), [kh, kw] = node.kernelSize, k = node.kernel;
  layer.rowPtr = p; p += align16((f + 1) * 4);
  layer.offsets = p; p += align16(layer.nonzeros * 4);
  layer.vals = p; p += align16(layer.nonzeros * 4);
  const fStart = new Int32Array(memory, layer.rowPtr, f + 1);
  const taps = new Int32Array(memory, layer.offsets, layer.nonzeros), vals = new Float32Array(memory, layer.vals, layer.nonzeros);
  let nz = 0;
  for (let fi = 0; fi < f; fi++) {
    fStart[fi] = nz;
    for (let ci = 0; ci < c; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const v = k[((ky * kw + kx) * c + ci) * f + fi];
          if (v === 0) continue;
          taps[nz] = (ci << 16) | (ky << 8) | kx;
          vals[nz++] = v;
        }
      }
    }
  }
  fStart[f] = nz;
  return p;
}

/** The layout of `node` (sizes only): its kernel choice and bytes. */
export function planLayer(node: PrunableNode, wanted: KernelChoice): PackedLayer {
  const outputs = node.op === "dense" ? node.units : node.op === "conv2d" ? node.filters : node.shape[2];
  const rows = node.op === "depthwiseConv2d" ? node.kernel.length / node.depthMultiplier : node.kernel.length / outputs;
  const nonzeros = countNonzeros(node.kernel);
  const density = node.kernel.length === 0 ? 0 : nonzeros / node.kernel.length;
  // The filter-tap list packs ky, kx in 8 bits and c in 15: larger convs (none seen in practice) run dense.
  const fitsTaps = node.op !== "conv2d" || (node.kernelSize[0] < 256 && node.kernelSize[1] < 256 && rows / (node.kernelSize[0] * node.kernelSize[1]) < 32768);
  // Against the work of the dense kernel, which runs outputs rounded up to 4 (6 filters cost 8).
  const workDensity = rows === 0 ? 0 : nonzeros / (rows * up4(outputs));
  const kernel = fitsTaps ? chooseKernel(node.op, workDensity, wanted) : "dense";
  const tapBytes = node.op === "depthwiseConv2d" ? align16((inputChannels(node) + 1) * 4) + align16(rows * 4) : 0;
  const weightBytes = kernel === "sparse" && node.op === "conv2d"
    ? align16((outputs + 1) * 4) + align16(nonzeros * 4) * 2
    : kernel === "sparse"
    ? align16((rows + 1) * 4) + align16(nonzeros * 4) * 2 + tapBytes
    : align16(rows * up4(outputs) * 4);
  const bytes = weightBytes + align16(up4(outputs) * 4);
  return { node, kernel, rows, outputs, nonzeros, density, bytes, rowPtr: 0, offsets: 0, vals: 0, dense: 0, bias: 0, tapStart: 0, taps: 0 };
}

/** Writes `layer` at byte address `at` of `memory` (which must hold layer.bytes from there). */
export function writePacked(layer: PackedLayer, memory: ArrayBuffer, at: number): void {
  const { node, rows, outputs, nonzeros } = layer;
  const k = node.kernel;
  let p = at;
  if (layer.kernel === "sparse" && node.op === "conv2d") {
    p = writeFilterTaps(layer, memory, p);
  } else if (layer.kernel === "sparse") {
    layer.rowPtr = p; p += align16((rows + 1) * 4);
    layer.offsets = p; p += align16(nonzeros * 4);
    layer.vals = p; p += align16(nonzeros * 4);
    const rowPtr = new Int32Array(memory, layer.rowPtr, rows + 1);
    const offsets = new Int32Array(memory, layer.offsets, nonzeros);
    const vals = new Float32Array(memory, layer.vals, nonzeros);
    // A depthwise row (tap, c) holds the multiplier's outputs c·mult + j; other rows all outputs.
    const perRow = node.op === "depthwiseConv2d" ? node.depthMultiplier : outputs;
    const inC = node.op === "depthwiseConv2d" ? outputs / perRow : 1;
    let nz = 0;
    for (let r = 0; r < rows; r++) {
      rowPtr[r] = nz;
      const first = node.op === "depthwiseConv2d" ? (r % inC) * perRow : 0;
      for (let j = 0; j < perRow; j++) {
        const v = k[r * perRow + j];
        if (v === 0) continue;
        offsets[nz] = (first + j) * 4;
        vals[nz++] = v;
      }
    }
    rowPtr[rows] = nz;
    if (node.op === "depthwiseConv2d") p = writeTaps(layer, memory, p);
  } else {
    layer.dense = p; p += align16(rows * up4(outputs) * 4);
    const w = new Float32Array(memory, layer.dense, rows * up4(outputs));
    for (let r = 0; r < rows; r++) w.set(k.subarray(r * outputs, (r + 1) * outputs), r * up4(outputs));
  }
  layer.bias = p;
  const b = new Float32Array(memory, p, up4(outputs));
  b.fill(0);
  if (node.bias) b.set(node.bias);
}
