// A Conv2D layer's geometry once validated: sizes, strides, dilations and the zero padding in
// front (TF's rule), and the facts of the im2col unrolling the solver needs without building it.

/** Everything the conv operator needs; the unrolling has P = samples·outH·outW rows and kh·kw·inC columns. */
export interface ConvGeometry {
  samples: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Zero rows above / columns left of the image ("same": the smaller half of the total). */
  padTop: number;
  padLeft: number;
}

/**
 * Output size and leading pad of one axis, TF semantics. "valid": floor((in − span)/stride) + 1
 * (0 when the dilated kernel's span does not fit); "same": ceil(in/stride), total pad
 * max((out − 1)·stride + span − in, 0), floor(total/2) of it in front.
 */
export function convAxis(size: number, kernel: number, stride: number, dilation: number, padding: "same" | "valid"): { out: number; padBefore: number } {
  const span = (kernel - 1) * dilation + 1;
  if (padding === "valid") return { out: size >= span ? Math.floor((size - span) / stride) + 1 : 0, padBefore: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

/**
 * The bias unit of the unrolling (see bias-unit.ts): sqrt(max over its columns of the mean
 * square), column (dy, dx, c) summing x² over the input pixels that kernel tap sees. Computed from
 * the per-pixel sums over samples, so it costs one pass over the input, not P·N.
 */
export function convBiasUnit(input: Float32Array, g: ConvGeometry): number {
  const { inH, inW, inC } = g;
  const pixelSquares = new Float64Array(inH * inW * inC);
  for (let i = 0; i < input.length; i++) {
    const x = input[i];
    if (x !== 0) pixelSquares[i % pixelSquares.length] += x * x;
  }
  const column = new Float64Array(inC);
  let max = 0;
  for (let dy = 0; dy < g.kh; dy++) {
    for (let dx = 0; dx < g.kw; dx++) {
      column.fill(0);
      for (let oy = 0; oy < g.outH; oy++) {
        const iy = oy * g.sh + dy * g.dh - g.padTop;
        if (iy < 0 || iy >= inH) continue;
        for (let ox = 0; ox < g.outW; ox++) {
          const ix = ox * g.sw + dx * g.dw - g.padLeft;
          if (ix < 0 || ix >= inW) continue;
          const at = (iy * inW + ix) * inC;
          for (let c = 0; c < inC; c++) column[c] += pixelSquares[at + c];
        }
      }
      for (let c = 0; c < inC; c++) if (column[c] > max) max = column[c];
    }
  }
  const P = g.samples * g.outH * g.outW;
  return max > 0 && P > 0 ? Math.sqrt(max / P) : 1;
}
