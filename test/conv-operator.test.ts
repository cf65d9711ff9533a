// The conv operator's wasm kernels (assembly/conv.ts) against the test's own f64 loops, on the
// SIMD and scalar builds, for every stride / padding / dilation combination: A(W) = conv(X, W)
// (+ the bias column), its adjoint A*(Z) (⟨A(W), Z⟩ = ⟨W, A*(Z)⟩ in f64), the Gram A*A against
// the im2col unrolling's XᵀX, and the forward convolution against real TF.js conv2d.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { compileModule, instantiate, type Backend } from "../bindings/index.ts";
import { axis, im2col, naiveConv, type ConvCase } from "./helpers/conv.ts";
import { gaussian, relDiff } from "./helpers/problems.ts";

const CASES: ConvCase[] = [];
for (const [sh, sw] of [[1, 1], [2, 2], [2, 1]]) {
  for (const padding of ["valid", "same"] as const) {
    for (const [dh, dw] of [[1, 1], [2, 2], [1, 3]]) CASES.push({ kh: 3, kw: 2, sh, sw, dh, dw, padding });
  }
}
CASES.push({ kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, padding: "same" }, { kh: 4, kw: 4, sh: 3, sw: 3, dh: 1, dw: 1, padding: "same" });

const IN_SHAPE = [3, 9, 8, 3];
const COUT = 5;
const BIAS_VALUE = 0.75;


function randomArray(seed: number, n: number): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: n }, () => g());
}

/**
 * Runs the three kernels of one geometry on `backend`; returns their outputs, and the forward
 * pass and adjoint again in pieces (convForwardRows at `rowCuts`, convAdjointRows at `kernelCuts`:
 * fractions of P and N̄), as threads split them, and the adjoint in pieces from zᵀ
 * (convAdjointRowsOfTransposed, as the threaded ADMM calls it).
 */
function runKernels(
  backend: Backend, c: ConvCase, x: Float32Array, w: Float32Array, z: Float32Array, inShape = IN_SHAPE,
  rowCuts = [1 / 3, 0.5, 0.8], kernelCuts = [0.2, 0.5, 0.55],
) {
  const ex = backend.exports;
  const [n, h, wd, cin] = inShape;
  const [ho, pt] = axis(h, c.kh, c.sh, c.dh, c.padding);
  const [wo, pl] = axis(wd, c.kw, c.sw, c.dw, c.padding);
  const NB = c.kh * c.kw * cin + 1, P = n * ho * wo;
  const rows = ex.convBlockRows(NB);
  const sizes = [
    x.length, rows * NB, rows * Math.max(NB, COUT) + COUT * NB, ex.gemmScratchBytes() / 4, NB * COUT, P * COUT, P * COUT, NB * COUT, NB * NB,
    P * COUT, NB * COUT, P * COUT, NB * COUT,
  ];
  const ptr: number[] = [];
  let at = Math.ceil((ex.heapBase() >>> 0) / 64) * 64;
  for (const s of sizes) { ptr.push(at); at += Math.ceil((s * 4) / 64) * 64; }
  const need = Math.ceil(at / 65536) - backend.memory.buffer.byteLength / 65536;
  if (need > 0) backend.memory.grow(need);
  const f32 = (p: number, len: number) => new Float32Array(backend.memory.buffer, p, len);
  const [pIn, pPatch, pPatchT, pScratch, pW, pOut, pZ, pAdj, pGram, pOutPieces, pAdjPieces, pZt, pAdjOfZt] = ptr;
  f32(pIn, x.length).set(x);
  f32(pW, NB * COUT).set(w);
  f32(pZ, P * COUT).set(z);
  const zt = f32(pZt, P * COUT);
  for (let p = 0; p < P; p++) for (let j = 0; j < COUT; j++) zt[j * P + p] = z[p * COUT + j];
  ex.convConfigure(n, h, wd, cin, ho, wo, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, pt, pl, COUT, pIn, BIAS_VALUE, pPatch, pPatchT, pScratch);
  ex.convForward(pW, pOut);
  ex.convAdjoint(pZ, pAdj);
  ex.convGram(pGram);
  const pieces = (cuts: number[], total: number) => [0, ...cuts.map((f) => Math.round(f * total)), total];
  const rowEnds = pieces(rowCuts, P), kernelEnds = pieces(kernelCuts, NB);
  for (let i = 1; i < rowEnds.length; i++) ex.convForwardRows(pW, pOutPieces, rowEnds[i - 1], rowEnds[i]);
  for (let i = 1; i < kernelEnds.length; i++) ex.convAdjointRows(pZ, pAdjPieces, kernelEnds[i - 1], kernelEnds[i]);
  for (let i = 1; i < kernelEnds.length; i++) ex.convAdjointRowsOfTransposed(pZt, P, pAdjOfZt, kernelEnds[i - 1], kernelEnds[i]);
  return {
    forward: f32(pOut, P * COUT).slice(), adjoint: f32(pAdj, NB * COUT).slice(), gram: f32(pGram, NB * NB).slice(), P, NB,
    forwardPieces: f32(pOutPieces, P * COUT).slice(), adjointPieces: f32(pAdjPieces, NB * COUT).slice(),
    adjointOfTransposed: f32(pAdjOfZt, NB * COUT).slice(),
  };
}

describe.each([true, false])("conv kernels (SIMD build: %s)", (simd) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await instantiate(await compileModule(simd));
  });

  it.each(CASES.map((c) => [`${c.kh}×${c.kw} s${c.sh},${c.sw} d${c.dh},${c.dw} ${c.padding}`, c] as const))(
    "%s: A(W), A*(Z) and A*A against f64 loops; ⟨A(W), Z⟩ = ⟨W, A*(Z)⟩",
    (_name, c) => {
      const cin = IN_SHAPE[3];
      const N = c.kh * c.kw * cin, NB = N + 1;
      const x = randomArray(1, IN_SHAPE.reduce((a, b) => a * b, 1));
      const w = randomArray(2, NB * COUT);
      const kernel = w.subarray(0, N * COUT);
      const biasRow = Array.from(w.subarray(N * COUT), (b) => b * BIAS_VALUE);
      const expectedForward = naiveConv(x, IN_SHAPE, kernel, biasRow, COUT, c);
      const P = expectedForward.shape[0] * expectedForward.shape[1] * expectedForward.shape[2];
      const z = randomArray(3, P * COUT);
      const got = runKernels(backend, c, x, w, z);
      expect(got.P).toBe(P);
      expect(relDiff(got.forward, expectedForward.out)).toBeLessThan(1e-5);

      // A*(Z) and A*A from the unrolling, in f64.
      const u = im2col(x, IN_SHAPE, c);
      const row = (p: number, j: number) => (j < N ? u.data[p * N + j] : BIAS_VALUE);
      const adjoint = new Float64Array(NB * COUT);
      const gram = new Float64Array(NB * NB);
      for (let p = 0; p < P; p++) {
        for (let j = 0; j < NB; j++) {
          const v = row(p, j);
          if (v === 0) continue;
          for (let m = 0; m < COUT; m++) adjoint[j * COUT + m] += v * z[p * COUT + m];
          for (let k = 0; k < NB; k++) gram[j * NB + k] += v * row(p, k);
        }
      }
      expect(relDiff(got.adjoint, adjoint)).toBeLessThan(1e-5);
      expect(relDiff(got.gram, gram)).toBeLessThan(1e-5);
      // In pieces (as threads split them): the whole call's bits.
      expect(bits(got.forwardPieces)).toEqual(bits(got.forward));
      expect(bits(got.adjointPieces)).toEqual(bits(got.adjoint));
    expect(bits(got.adjointOfTransposed)).toEqual(bits(got.adjoint));

      // The adjoint identity on the kernels' own outputs, summed in f64.
      let lhs = 0, rhs = 0, scale = 0;
      for (let i = 0; i < got.forward.length; i++) { lhs += got.forward[i] * z[i]; scale += Math.abs(got.forward[i] * z[i]); }
      for (let i = 0; i < got.adjoint.length; i++) rhs += w[i] * got.adjoint[i];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-6 * scale);
    },
  );
});

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe.each([true, false])("conv kernels split as threads split them, several blocks of samples (SIMD build: %s)", (simd) => {
  // N̄ = 5·5·16 + 1 = 401: 653 rows per gathered block, P = 7·10·10 = 700 rows: two blocks.
  const inShape = [7, 14, 14, 16];
  const c: ConvCase = { kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: "valid" };
  const cutsOf = [
    // Mid-block, at a block's end, mid kernel row, inside one tap's channels, the bias column alone.
    { rows: [0.1, 653 / 700, 0.95], kernel: [17 / 401, 100 / 401, 0.5, 400 / 401] },
    { rows: [0.5], kernel: [1 / 401, 0.5] },
  ];
  it.each(cutsOf)("pieces at %o give convForward's and convAdjoint's bits", async (cuts) => {
    const backend = await instantiate(await compileModule(simd));
    const x = randomArray(21, inShape.reduce((a, b) => a * b, 1)).map((v) => Math.max(v, 0));
    const NB = 401, P = 700;
    const w = randomArray(22, NB * COUT);
    const z = randomArray(23, P * COUT);
    const got = runKernels(backend, c, x, w, z, inShape, cuts.rows, cuts.kernel);
    expect(got.P).toBe(P);
    expect(bits(got.forwardPieces)).toEqual(bits(got.forward));
    expect(bits(got.adjointPieces)).toEqual(bits(got.adjoint));
    expect(bits(got.adjointOfTransposed)).toEqual(bits(got.adjoint));
    // And the whole calls are the convolution (so the pieces are too).
    const expected = naiveConv(x, inShape, w.subarray(0, (NB - 1) * COUT), Array.from(w.subarray((NB - 1) * COUT), (b) => b * BIAS_VALUE), COUT, c);
    expect(relDiff(got.forward, expected.out)).toBeLessThan(1e-5);
  });
});

describe("the conv kernels' forward pass against TF.js conv2d", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await instantiate(await compileModule(true));
    await tf.setBackend("cpu");
  });

  // TF.js refuses strides > 1 together with dilations > 1.
  const tfCases = CASES.filter((c) => (c.sh === 1 && c.sw === 1) || (c.dh === 1 && c.dw === 1));
  it.each(tfCases.map((c) => [`${c.kh}×${c.kw} s${c.sh},${c.sw} d${c.dh},${c.dw} ${c.padding}`, c] as const))("%s within 1e-5 relative", (_n, c) => {
    const cin = IN_SHAPE[3];
    const N = c.kh * c.kw * cin;
    const x = randomArray(11, IN_SHAPE.reduce((a, b) => a * b, 1));
    const w = randomArray(12, (N + 1) * COUT);
    const expected = tf.tidy(() => {
      const y = tf.conv2d(
        tf.tensor4d(x, IN_SHAPE as [number, number, number, number]),
        tf.tensor4d(w.slice(0, N * COUT), [c.kh, c.kw, cin, COUT]),
        [c.sh, c.sw], c.padding, "NHWC", [c.dh, c.dw],
      );
      return tf.add(y, tf.mul(tf.tensor1d(w.slice(N * COUT)), BIAS_VALUE)).dataSync() as Float32Array;
    });
    const got = runKernels(backend, c, x, w, new Float32Array(expected.length));
    expect(got.forward.length).toBe(expected.length);
    expect(relDiff(got.forward, expected)).toBeLessThan(1e-5);
  });
});
