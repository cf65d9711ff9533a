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

/** How to gather some of a design's columns from a patch: per column its tap (−1: the bias's 1). */
interface Gather {
  cols: Int32Array;
  /** Each tap's offset from its window's first input value (for a window inside the input). */
  flat: Int32Array;
  /** The farthest tap from the window's first pixel, rows and columns. */
  reachY: number;
  reachX: number;
}

function gatherOf(g: Windows, taps: Taps, cols: Int32Array): Gather {
  const flat = new Int32Array(cols.length);
  let reachY = 0, reachX = 0;
  cols.forEach((j, s) => {
    if (j < 0) return;
    flat[s] = (taps.dy[j] * g.W + taps.dx[j]) * g.C + taps.ch[j];
    reachY = Math.max(reachY, taps.dy[j]);
    reachX = Math.max(reachX, taps.dx[j]);
  });
  return { cols, flat, reachY, reachX };
}

/**
 * Rows [from, to) of the im2col restricted to `gather`'s columns into out ([to − from, k]),
 * patch = (p·oh + oy)·ow + ox, except those whose `skip` entry is 1. A window inside the input
 * reads its taps at fixed offsets; one that reaches into the padding checks each tap (0 outside).
 */
function gatherPatches(g: Windows, x: Float32Array, taps: Taps, gather: Gather, from: number, to: number, out: Float64Array, skip?: Uint8Array): void {
  const { cols, flat, reachY, reachX } = gather, k = cols.length;
  const { H, W, C, oh, ow } = g, perSample = oh * ow, sampleSize = H * W * C;
  let p = Math.floor(from / perSample);
  let oy = Math.floor((from - p * perSample) / ow), ox = from - p * perSample - oy * ow;
  for (let patch = from, ro = 0; patch < to; patch++, ro += k) {
    if (skip && skip[patch] === 1) { if (++ox === ow) { ox = 0; if (++oy === oh) { oy = 0; p++; } } continue; }
    const iy0 = oy * g.sh - g.padTop, ix0 = ox * g.sw - g.padLeft, base = p * sampleSize;
    if (iy0 >= 0 && iy0 + reachY < H && ix0 >= 0 && ix0 + reachX < W) {
      const origin = base + (iy0 * W + ix0) * C;
      for (let s = 0; s < k; s++) out[ro + s] = cols[s] < 0 ? 1 : x[origin + flat[s]];
    } else {
      for (let s = 0; s < k; s++) {
        const j = cols[s];
        if (j < 0) { out[ro + s] = 1; continue; }
        const iy = iy0 + taps.dy[j], ix = ix0 + taps.dx[j];
        out[ro + s] = iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x[base + (iy * W + ix) * C + taps.ch[j]];
      }
    }
    if (++ox === ow) { ox = 0; if (++oy === oh) { oy = 0; p++; } }
  }
}

/** Calls visit(block, first, count) for blocks of the rows gathered by `gather`, in order (rows `skip` marks left as they were). */
function forBlocks(
  g: Windows, x: Float32Array, taps: Taps, gather: Gather, block: Float64Array,
  visit: (block: Float64Array, first: number, count: number) => void, skip?: Uint8Array,
): void {
  const rows = g.rows * g.oh * g.ow;
  for (let first = 0; first < rows; first += BLOCK_PATCHES) {
    const to = Math.min(first + BLOCK_PATCHES, rows);
    gatherPatches(g, x, taps, gather, first, to, block, skip);
    visit(block, first, to - first);
  }
}

/** The patch design over `taps` (columns 0..T−1, then the bias's column T when `withBias`): its Gram, and a unit's rows in blocks. */
function patchDesign(g: Windows, x: Float32Array, taps: Taps, withBias: boolean, units: RefitUnit[]): RefitDesign {
  const T = taps.dy.length, n = T + (withBias ? 1 : 0), rows = g.rows * g.oh * g.ow;
  const blockOf = (k: number) => new Float64Array(Math.min(BLOCK_PATCHES, rows) * k);
  // X̄ᵀX̄ row by row over the nonzero values (zero inputs and padding skipped).
  const gram = new Float64Array(n * n);
  const index = new Int32Array(n), value = new Float64Array(n);
  const all = gatherOf(g, taps, Int32Array.from({ length: n }, (_, j) => (j < T ? j : -1)));
  forBlocks(g, x, taps, all, blockOf(n), (block, _, count) => {
    for (let q = 0, ro = 0; q < count; q++, ro += n) {
      let nonzero = 0;
      for (let j = 0; j < n; j++) {
        const v = block[ro + j];
        if (v !== 0) { index[nonzero] = j; value[nonzero++] = v; }
      }
      for (let a = 0; a < nonzero; a++) {
        const row = index[a] * n, va = value[a];
        for (let b = a; b < nonzero; b++) gram[row + index[b]] += va * value[b];
      }
    }
  });
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) gram[j * n + i] = gram[i * n + j];
  const rowsOf = ({ columns }: RefitUnit): UnitRows => {
    const gather = gatherOf(g, taps, Int32Array.from(columns, (j) => (j < T ? j : -1)));
    const block = blockOf(columns.length);
    return (visit, skip) => forBlocks(g, x, taps, gather, block, visit, skip);
  };
  return { rows, gram, n, units, rowsOf };
}

/** Units that share one design: a conv's filters, or a depthwise conv's outputs of one input channel. */
interface Group {
  /** Candidate taps, in design order. */
  taps: number;
  units: number;
  /** Tap t of unit u: its index in the node's kernel. */
  kernelIndex(t: number, u: number): number;
  /** Unit u's index in the node's bias, and its channel in the target. */
  output(u: number): number;
  /** Tap t's kernel position (ky, kx) and input channel. */
  position(t: number): [number, number, number];
}

/**
 * Refits one group's units (refitUnits on the patch design over the taps some unit keeps) and
 * writes their weights into `kernel` and `bias` (the refitted node's, zero where not kept).
 */
function refitGroup(
  node: Conv2DNode | DepthwiseConv2DNode, g: Windows, x: Float32Array, z: Float32Array, channels: number, relu: boolean,
  group: Group, kernel: Float32Array, bias: Float32Array | null,
): void {
  const kept = (t: number, u: number) => node.kernel[group.kernelIndex(t, u)] !== 0;
  const column = new Int32Array(group.taps).fill(-1);
  const dy: number[] = [], dx: number[] = [], ch: number[] = [];
  for (let t = 0; t < group.taps; t++) {
    for (let u = 0; u < group.units; u++) {
      if (!kept(t, u)) continue;
      const [ky, kx, c] = group.position(t);
      column[t] = dy.length;
      dy.push(ky * node.dilation[0]); dx.push(kx * node.dilation[1]); ch.push(c);
      break;
    }
  }
  const T = dy.length, hasBias = (u: number) => !!node.bias && node.bias[group.output(u)] !== 0;
  const units = Array.from({ length: group.units }, (_, u): RefitUnit => {
    const columns: number[] = [], own: number[] = [];
    for (let t = 0; t < group.taps; t++) if (kept(t, u)) { columns.push(column[t]); own.push(node.kernel[group.kernelIndex(t, u)]); }
    if (hasBias(u)) { columns.push(T); own.push(node.bias![group.output(u)]); }
    return { columns: Int32Array.from(columns), channel: group.output(u), own: Float64Array.from(own) };
  });
  const taps = { dy: Int32Array.from(dy), dx: Int32Array.from(dx), ch: Int32Array.from(ch) };
  const solved = refitUnits(patchDesign(g, x, taps, units.some((_, u) => hasBias(u)), units), z, channels, relu);
  solved.forEach((w, u) => {
    if (!w) return;
    let s = 0;
    for (let t = 0; t < group.taps; t++) if (kept(t, u)) kernel[group.kernelIndex(t, u)] = w[s++];
    if (hasBias(u)) bias![group.output(u)] = w[s];
  });
}

/**
 * The refit of Conv2D node `node` (its zeros are the support) on input `x` ([rows, ...inShape])
 * toward its pre-activation target `z` ([rows, oh, ow, filters]): one design for all filters.
 * Returns the f32 kernel and bias (null when the node has none); a filter whose kept inputs are
 * zero on every patch gets zero weights.
 */
export function refitConvNode(node: Conv2DNode, x: Float32Array, rows: number, inShape: readonly number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  const F = node.filters, C = inShape[2], [kh, kw] = node.kernelSize;
  const kernel = new Float32Array(node.kernel.length), bias = node.bias ? new Float32Array(F) : null;
  refitGroup(node, windowsOf(node, rows, inShape), x, z, F, relu, {
    taps: kh * kw * C, units: F,
    kernelIndex: (t, f) => t * F + f,
    output: (f) => f,
    position: (t) => [Math.floor(t / (kw * C)), Math.floor(t / C) % kw, t % C],
  }, kernel, bias);
  return { kernel, bias };
}

/**
 * The refit of DepthwiseConv2D node `node` on input `x` ([rows, ...inShape]) toward its
 * pre-activation target `z` ([rows, oh, ow, inC·multiplier]): one design per input channel c,
 * over c's taps, shared by its outputs c·multiplier + j. Returns the f32 kernel
 * ([kh, kw, inC, multiplier]) and bias.
 */
export function refitDepthwiseNode(node: DepthwiseConv2DNode, x: Float32Array, rows: number, inShape: readonly number[], z: Float32Array, relu: boolean): { kernel: Float32Array; bias: Float32Array | null } {
  const C = inShape[2], m = node.depthMultiplier, [kh, kw] = node.kernelSize;
  const g = windowsOf(node, rows, inShape);
  const kernel = new Float32Array(node.kernel.length), bias = node.bias ? new Float32Array(C * m) : null;
  for (let c = 0; c < C; c++) {
    refitGroup(node, g, x, z, C * m, relu, {
      taps: kh * kw, units: m,
      kernelIndex: (t, j) => (t * C + c) * m + j,
      output: (j) => c * m + j,
      position: (t) => [Math.floor(t / kw), t % kw, c],
    }, kernel, bias);
  }
  return { kernel, bias };
}
