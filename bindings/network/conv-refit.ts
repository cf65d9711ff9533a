// The refit on the support for Conv2D and DepthwiseConv2D nodes (refit.ts for the idea,
// refit-units.ts for the solve they share with the Dense refit). A conv's design is the im2col
// of its input: one row per sample and output pixel (a patch), one column per kernel tap, the
// bias's column of ones last. Conv2D: one design for all filters, over the taps some filter keeps.
// DepthwiseConv2D: one small design per input channel, over that channel's taps, shared by its
// depth-multiplier outputs. The Gram is accumulated patch by patch in f64 and a unit's rows are
// gathered a block of patches at a time: the im2col itself is never materialised (conv1 of the
// bundled CNN has 4.6 M patches at P = 8000).
import { window1D } from "./graph/shapes.ts";
import type { Conv2DNode, DepthwiseConv2DNode } from "./graph/types.ts";
import { refitUnits, type RefitDesign, type RefitUnit, type UnitRows } from "./refit-units.ts";

/** Patches gathered at a time for one unit's rows. */
const BLOCK_PATCHES = 4096;

/** Where a node's windows fall on its input ([rows, H, W, C] NHWC). */
interface Windows {
  rows: number; H: number; W: number; C: number; oh: number; ow: number;
  sh: number; sw: number; padTop: number; padLeft: number;
}

function windowsOf(node: Conv2DNode | DepthwiseConv2DNode, rows: number, inShape: readonly number[]): Windows {
  const [H, W, C] = inShape;
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, [dh, dw] = node.dilation;
  return {
    rows, H, W, C, oh: node.shape[0], ow: node.shape[1], sh, sw,
    padTop: window1D(H, kh, sh, dh, node.padding).padBefore,
    padLeft: window1D(W, kw, sw, dw, node.padding).padBefore,
  };
}

/** A design's taps: tap j reads input pixel (oy·sh − padTop + dy[j], ox·sw − padLeft + dx[j]), channel ch[j]. */
interface Taps { dy: Int32Array; dx: Int32Array; ch: Int32Array }

/** Tap (ky, kx, channel) of the node as offsets in its input. */
function tapOf(node: Conv2DNode | DepthwiseConv2DNode, ky: number, kx: number, channel: number) {
  return { dy: ky * node.dilation[0], dx: kx * node.dilation[1], ch: channel };
}

function tapsOf(list: { dy: number; dx: number; ch: number }[]): Taps {
  return { dy: Int32Array.from(list, (t) => t.dy), dx: Int32Array.from(list, (t) => t.dx), ch: Int32Array.from(list, (t) => t.ch) };
}

/**
 * Calls visit(patch, oy, ox, base) for every patch in [from, to), patch = (p·oh + oy)·ow + ox,
 * base = the offset of sample p in x.
 */
function forPatches(g: Windows, from: number, to: number, visit: (patch: number, iy0: number, ix0: number, base: number) => void): void {
  const perSample = g.oh * g.ow, sampleSize = g.H * g.W * g.C;
  for (let patch = from; patch < to; patch++) {
    const p = Math.floor(patch / perSample), pixel = patch - p * perSample;
    const oy = Math.floor(pixel / g.ow), ox = pixel - oy * g.ow;
    visit(patch, oy * g.sh - g.padTop, ox * g.sw - g.padLeft, p * sampleSize);
  }
}

/** Input value of tap j at the patch whose window starts at (iy0, ix0) (0 in the padding). */
function tapValue(g: Windows, x: Float32Array, taps: Taps, j: number, iy0: number, ix0: number, base: number): number {
  const iy = iy0 + taps.dy[j], ix = ix0 + taps.dx[j];
  return iy < 0 || iy >= g.H || ix < 0 || ix >= g.W ? 0 : x[base + (iy * g.W + ix) * g.C + taps.ch[j]];
}

/** The patch design over `taps` (columns 0..T−1, then the bias's column T when `withBias`): its Gram, and a unit's rows in blocks. */
function patchDesign(g: Windows, x: Float32Array, taps: Taps, withBias: boolean, units: RefitUnit[]): RefitDesign {
  const T = taps.dy.length, n = T + (withBias ? 1 : 0), rows = g.rows * g.oh * g.ow;
  const gram = new Float64Array(n * n);
  const index = new Int32Array(n), value = new Float64Array(n);
  forPatches(g, 0, rows, (_, iy0, ix0, base) => {
    let count = 0;
    for (let j = 0; j < T; j++) {
      const v = tapValue(g, x, taps, j, iy0, ix0, base);
      if (v !== 0) { index[count] = j; value[count++] = v; }
    }
    if (withBias) { index[count] = T; value[count++] = 1; }
    for (let a = 0; a < count; a++) {
      const row = index[a] * n, va = value[a];
      for (let b = a; b < count; b++) gram[row + index[b]] += va * value[b];
    }
  });
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) gram[j * n + i] = gram[i * n + j];
  const rowsOf = ({ columns }: RefitUnit): UnitRows => {
    const k = columns.length;
    const block = new Float64Array(Math.min(BLOCK_PATCHES, rows) * k);
    return (visit) => {
      for (let first = 0; first < rows; first += BLOCK_PATCHES) {
        const to = Math.min(first + BLOCK_PATCHES, rows);
        forPatches(g, first, to, (patch, iy0, ix0, base) => {
          const ro = (patch - first) * k;
          for (let s = 0; s < k; s++) block[ro + s] = columns[s] === T ? 1 : tapValue(g, x, taps, columns[s], iy0, ix0, base);
        });
        visit(block, first, to - first);
      }
    };
  };
  return { rows, gram, n, units, rowsOf };
}

/**
 * The refit of Conv2D node `node` (its zeros are the support) on input `x` ([rows, ...inShape])
 * toward its pre-activation target `z` ([rows, oh, ow, filters]): each filter's kept taps and
 * bias by refitUnits on the im2col restricted to the taps some filter keeps. Returns the f32
 * kernel and bias (null when the node has none); a filter whose kept inputs are zero on every
 * patch gets zero weights.
 */
export function refitConvNode(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  const F = node.filters, C = inShape[2], [kh, kw] = node.kernelSize;
  const column = new Int32Array(kh * kw * C).fill(-1); // tap (ky·kw + kx)·C + c → its design column
  const list: { dy: number; dx: number; ch: number }[] = [];
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) for (let c = 0; c < C; c++) {
    const t = (ky * kw + kx) * C + c;
    for (let f = 0; f < F; f++) if (node.kernel[t * F + f] !== 0) { column[t] = list.length; list.push(tapOf(node, ky, kx, c)); break; }
  }
  const T = list.length, bias = node.bias;
  const units = Array.from({ length: F }, (_, f): RefitUnit => {
    const kept: number[] = [], own: number[] = [];
    column.forEach((j, t) => { if (node.kernel[t * F + f] !== 0) { kept.push(j); own.push(node.kernel[t * F + f]); } });
    if (bias && bias[f] !== 0) { kept.push(T); own.push(bias[f]); }
    return { columns: Int32Array.from(kept), channel: f, own: Float64Array.from(own) };
  });
  const withBias = units.some((u) => u.columns[u.columns.length - 1] === T);
  const design = patchDesign(windowsOf(node, rows, inShape), x, tapsOf(list), withBias, units);
  const solved = refitUnits(design, z, F, relu);
  const kernel = new Float32Array(node.kernel.length);
  const newBias = bias ? new Float32Array(F) : null;
  units.forEach(({ columns }, f) => {
    const w = solved[f];
    if (!w) return;
    let s = 0;
    column.forEach((j, t) => { if (node.kernel[t * F + f] !== 0) kernel[t * F + f] = w[s++]; });
    if (s < columns.length) newBias![f] = w[s];
  });
  return { kernel, bias: newBias };
}

/**
 * The refit of DepthwiseConv2D node `node` on input `x` ([rows, ...inShape]) toward its
 * pre-activation target `z` ([rows, oh, ow, inC·multiplier]): per input channel c, one design
 * over c's taps (those some output c·multiplier + m keeps) and each of its outputs' kept taps and
 * bias by refitUnits. Returns the f32 kernel ([kh, kw, inC, multiplier]) and bias.
 */
export function refitDepthwiseNode(node: DepthwiseConv2DNode, x: Float32Array, rows: number, inShape: readonly number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  const C = inShape[2], m = node.depthMultiplier, [kh, kw] = node.kernelSize, bias = node.bias;
  const g = windowsOf(node, rows, inShape);
  const kernel = new Float32Array(node.kernel.length);
  const newBias = bias ? new Float32Array(C * m) : null;
  const at = (t: number, c: number, j: number) => (t * C + c) * m + j; // kernel index of tap t = ky·kw + kx
  for (let c = 0; c < C; c++) {
    const column = new Int32Array(kh * kw).fill(-1);
    const list: { dy: number; dx: number; ch: number }[] = [];
    for (let t = 0; t < kh * kw; t++) {
      for (let j = 0; j < m; j++) if (node.kernel[at(t, c, j)] !== 0) { column[t] = list.length; list.push(tapOf(node, Math.floor(t / kw), t % kw, c)); break; }
    }
    const T = list.length;
    const units = Array.from({ length: m }, (_, j): RefitUnit => {
      const kept: number[] = [], own: number[] = [];
      column.forEach((col, t) => { if (node.kernel[at(t, c, j)] !== 0) { kept.push(col); own.push(node.kernel[at(t, c, j)]); } });
      if (bias && bias[c * m + j] !== 0) { kept.push(T); own.push(bias[c * m + j]); }
      return { columns: Int32Array.from(kept), channel: c * m + j, own: Float64Array.from(own) };
    });
    const withBias = units.some((u) => u.columns[u.columns.length - 1] === T);
    const solved = refitUnits(patchDesign(g, x, tapsOf(list), withBias, units), z, C * m, relu);
    units.forEach(({ columns }, j) => {
      const w = solved[j];
      if (!w) return;
      let s = 0;
      for (let t = 0; t < kh * kw; t++) if (node.kernel[at(t, c, j)] !== 0) kernel[at(t, c, j)] = w[s++];
      if (s < columns.length) newBias![c * m + j] = w[s];
    });
  }
  return { kernel, bias: newBias };
}
