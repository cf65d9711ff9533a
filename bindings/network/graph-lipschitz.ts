// Lipschitz constants, in the Frobenius norm over a batch, of the graph ops that have no weights to
// prune: ‖op(x̂) − op(x)‖_F ≤ L·‖x̂ − x‖_F (each sample is mapped alone, so one sample's constant is
// the batch's). Add and Concatenate combine their inputs' bounds (graph-guarantee.ts).
//   identity, flatten, reshape, zero padding — 1 (the values move or are copied once);
//   relu, relu6, tanh, linear — 1 (elementwise, slopes in [0, 1]); sigmoid — 1/4 (its largest slope);
//   softmax — 1 (its Jacobian diag(p) − ppᵀ has norm ≤ max p ≤ 1, row by row);
//   BatchNorm not folded — max over channels of |γ/√(σ² + ε)| (a per-channel scale);
//   max pooling — √(the most windows one input falls in): |max a − max b| ≤ ‖a − b‖ over a window,
//     each input counted in every window it falls in (1 when windows do not overlap);
//   average pooling — its exact norm: per channel the map is A_h ⊗ A_w (a window's cells inside
//     the input factor as rows × columns, and so does the divisor), so ‖A‖ = ‖A_h‖·‖A_w‖, each
//     the norm of a small matrix (largestSingularValue);
//   global average pooling — 1/√(h·w) (each output is the mean of h·w inputs);
//   nearest upsampling — √(sh·sw) (each input copied sh·sw times).
import { window1D } from "./graph/shapes.ts";
import type { GraphNode, Padding2D } from "./graph/types.ts";

type Lipschitz = { constant: number } | { absent: string };

/** The constant of a one-input op without weights, on per-sample inputs of shape `inShape`. */
export function lipschitzOf(node: GraphNode, inShape: readonly number[]): Lipschitz {
  switch (node.op) {
    case "identity":
    case "flatten":
    case "reshape":
    case "zeroPad2d":
      return { constant: 1 };
    case "activation":
      return node.activation === "sigmoid" ? { constant: 0.25 } : { constant: 1 };
    case "batchNorm": {
      let largest = 0;
      node.variance.forEach((v, c) => { largest = Math.max(largest, Math.abs(node.gamma ? node.gamma[c] : 1) / Math.sqrt(v + node.epsilon)); });
      return { constant: largest };
    }
    case "maxPool2d": {
      const [h, w] = inShape;
      const most = (size: number, k: number, s: number) => Math.max(...windowsPerInput(size, k, s, node.padding));
      return { constant: Math.sqrt(most(h, node.poolSize[0], node.strides[0]) * most(w, node.poolSize[1], node.strides[1])) };
    }
    case "avgPool2d": {
      const [h, w] = inShape;
      return { constant: averagingNorm(h, node.poolSize[0], node.strides[0], node.padding) * averagingNorm(w, node.poolSize[1], node.strides[1], node.padding) };
    }
    case "globalAvgPool2d":
      return { constant: 1 / Math.sqrt(inShape[0] * inShape[1]) };
    case "upSample2d":
      return { constant: Math.sqrt(node.size[0] * node.size[1]) };
    default:
      return { absent: `node "${node.name}": no Lipschitz constant for op ${node.op}` };
  }
}

/** The cells [start, end) inside the input of each window along one axis. */
function windows(size: number, k: number, s: number, padding: Padding2D): [number, number][] {
  const { out, padBefore } = window1D(size, k, s, 1, padding);
  return Array.from({ length: out }, (_, o) => [Math.max(o * s - padBefore, 0), Math.min(o * s - padBefore + k, size)]);
}

/** How many windows each input cell along one axis falls in. */
function windowsPerInput(size: number, k: number, s: number, padding: Padding2D): number[] {
  const count = new Array<number>(size).fill(0);
  for (const [a, b] of windows(size, k, s, padding)) for (let i = a; i < b; i++) count[i]++;
  return count;
}

/** ‖A‖₂ of one axis's averaging matrix: row o holds 1/cells on its window's cells. */
function averagingNorm(size: number, k: number, s: number, padding: Padding2D): number {
  const ws = windows(size, k, s, padding);
  const a = new Float64Array(ws.length * size);
  ws.forEach(([lo, hi], o) => { for (let i = lo; i < hi; i++) a[o * size + i] = 1 / (hi - lo); });
  return largestSingularValue(a, ws.length, size);
}

/**
 * σ_max of a small [rows, cols] matrix, never below it: λ_max(G) ≤ ‖G^(2^t)‖_F^(1/2^t) for
 * G = AAᵀ (or AᵀA, the smaller), G squared t = 30 times, rescaled each time (‖G^m‖_F ≥ λ_max^m). The
 * excess is at most a factor n^(1/2^(t+2)) on σ (n the order of G): below 1 + 3e-9 for n ≤ 10⁵.
 */
export function largestSingularValue(a: Float64Array, rows: number, cols: number): number {
  const byRows = rows <= cols;
  const n = byRows ? rows : cols;
  if (n === 0) return 0;
  const at = (i: number, j: number) => (byRows ? a[i * cols + j] : a[j * cols + i]);
  const inner = byRows ? cols : rows;
  let g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += at(i, k) * at(j, k);
      g[i * n + j] = sum;
    }
  }
  // G^(2^t) = e^logScale · g, with g rescaled to unit Frobenius norm before each squaring.
  let logScale = 0;
  const t = 30;
  for (let step = 0; step < t; step++) {
    const f = Math.sqrt(g.reduce((acc, v) => acc + v * v, 0));
    if (f === 0) return 0;
    logScale = 2 * (logScale + Math.log(f));
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const v = g[i * n + k] / f;
        if (v === 0) continue;
        for (let j = 0; j < n; j++) h[i * n + j] += v * (g[k * n + j] / f);
      }
    }
    g = h;
  }
  const logG = (logScale + Math.log(Math.sqrt(g.reduce((acc, v) => acc + v * v, 0)))) / 2 ** t;
  return Math.sqrt(Math.exp(logG));
}
