// The tests' own convolution: direct f64 loops over NHWC tensors with TF's padding rule, and the
// im2col unrolling (the exact reference of the operator form). Shares no code with the library.
import { gaussian, rng } from "./problems.ts";

export interface ConvCase {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padding: "same" | "valid";
}

/** Output size and the pad in front of one axis (TF: "same" puts the odd pad at the end). */
export function axis(size: number, k: number, stride: number, dilation: number, padding: "same" | "valid"): [number, number] {
  const eff = dilation * (k - 1) + 1;
  if (padding === "valid") return [Math.ceil((size - eff + 1) / stride), 0];
  const out = Math.ceil(size / stride);
  const pad = Math.max(0, (out - 1) * stride + eff - size);
  return [out, pad >> 1];
}

/** conv(x, kernel) + biasScale·bias in f64; x [n, h, w, cin], kernel [kh, kw, cin, cout]. */
export function naiveConv(
  x: ArrayLike<number>, [n, h, w, cin]: number[], kernel: ArrayLike<number>, bias: ArrayLike<number>, cout: number, c: ConvCase,
): { out: Float64Array; shape: number[] } {
  const [ho, pt] = axis(h, c.kh, c.sh, c.dh, c.padding);
  const [wo, pl] = axis(w, c.kw, c.sw, c.dw, c.padding);
  const out = new Float64Array(n * ho * wo * cout);
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const o = ((s * ho + oy) * wo + ox) * cout;
        for (let m = 0; m < cout; m++) out[o + m] = bias[m];
        for (let ky = 0; ky < c.kh; ky++) {
          const iy = oy * c.sh - pt + ky * c.dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < c.kw; kx++) {
            const ix = ox * c.sw - pl + kx * c.dw;
            if (ix < 0 || ix >= w) continue;
            for (let ci = 0; ci < cin; ci++) {
              const v = x[((s * h + iy) * w + ix) * cin + ci];
              const k = ((ky * c.kw + kx) * cin + ci) * cout;
              for (let m = 0; m < cout; m++) out[o + m] += v * kernel[k + m];
            }
          }
        }
      }
    }
  }
  return { out, shape: [n, ho, wo, cout] };
}

/** The im2col unrolling [P, kh·kw·cin] (P = n·ho·wo), columns ordered as the TF kernel's rows. */
export function im2col(x: ArrayLike<number>, [n, h, w, cin]: number[], c: ConvCase): { data: Float32Array; P: number; N: number } {
  const [ho, pt] = axis(h, c.kh, c.sh, c.dh, c.padding);
  const [wo, pl] = axis(w, c.kw, c.sw, c.dw, c.padding);
  const N = c.kh * c.kw * cin;
  const P = n * ho * wo;
  const data = new Float32Array(P * N);
  let p = 0;
  for (let s = 0; s < n; s++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, p++) {
        for (let ky = 0; ky < c.kh; ky++) {
          for (let kx = 0; kx < c.kw; kx++) {
            for (let ci = 0; ci < cin; ci++) {
              const iy = oy * c.sh - pt + ky * c.dh, ix = ox * c.sw - pl + kx * c.dw;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              data[p * N + (ky * c.kw + kx) * cin + ci] = inside ? x[((s * h + iy) * w + ix) * cin + ci] : 0;
            }
          }
        }
      }
    }
  }
  return { data, P, N };
}

export interface ConvProblem {
  input: Float32Array;
  inShape: number[];
  output: Float32Array;
  outShape: number[];
  kernel: Float32Array;
  bias: Float32Array;
}

/** A seeded conv layer: Gaussian (optionally partly zero) input, sparse Gaussian kernel, act(conv + b). */
export function randomConvLayer(
  seed: number, inShape: number[], cout: number, c: ConvCase, opts: { linear?: boolean; density?: number; zeroInputs?: number } = {},
): ConvProblem {
  const g = gaussian(seed);
  const u = rng(seed + 7);
  const input = new Float32Array(inShape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < input.length; i++) input[i] = opts.zeroInputs && u() < opts.zeroInputs ? 0 : g();
  const kernel = new Float32Array(c.kh * c.kw * inShape[3] * cout);
  for (let i = 0; i < kernel.length; i++) kernel[i] = u() < (opts.density ?? 0.4) ? g() : 0;
  const bias = new Float32Array(cout).map(() => 0.1 * g());
  const { out, shape } = naiveConv(input, inShape, kernel, bias, cout, c);
  const output = Float32Array.from(out, (z) => (opts.linear ? z : Math.max(z, 0)));
  return { input, inShape, output, outShape: shape, kernel, bias };
}

/** Channel c of x [n, h, w, cin] as [n, h, w, 1]. */
export function channelOf(x: ArrayLike<number>, [n, h, w, cin]: number[], c: number): Float32Array {
  return Float32Array.from({ length: n * h * w }, (_, i) => x[i * cin + c]);
}

/** The depthwise conv in f64: output channel c·m + j = conv(channel c, kernel[:, :, c, j]) + bias; kernel [kh, kw, cin, m]. */
export function naiveDepthwise(
  x: ArrayLike<number>, [n, h, w, cin]: number[], kernel: ArrayLike<number>, bias: ArrayLike<number>, m: number, c: ConvCase,
): { out: Float64Array; shape: number[] } {
  const taps = c.kh * c.kw;
  let out = new Float64Array(0), shape: number[] = [];
  for (let ci = 0; ci < cin; ci++) {
    const k = Float64Array.from({ length: taps * m }, (_, i) => kernel[(Math.floor(i / m) * cin + ci) * m + (i % m)]);
    const b = Float64Array.from({ length: m }, (_, j) => bias[ci * m + j]);
    const one = naiveConv(channelOf(x, [n, h, w, cin], ci), [n, h, w, 1], k, b, m, c);
    if (ci === 0) { shape = [...one.shape.slice(0, 3), cin * m]; out = new Float64Array(one.out.length * cin); }
    for (let p = 0; p < one.out.length / m; p++) for (let j = 0; j < m; j++) out[p * cin * m + ci * m + j] = one.out[p * m + j];
  }
  return { out, shape };
}
