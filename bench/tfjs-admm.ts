// The Net-Trim ADMM iteration of assembly/admm.ts written on @tensorflow/tfjs 4.22 with
// @tensorflow/tfjs-backend-wasm (XNNPACK): the strongest off-the-shelf thing a JS user could reach
// for today, used as one column of the benchmark. Relu layers with V = 0 only (Ω = output > 0).
//
// Layout as in assembly/admm.ts: samples are rows. Xt is P×N̄ (input with a ones column, divided by
// c0), X = Xtᵀ is stored explicitly (tfjs's transposeA path is ~12× slower), Y = output/c0 is P×M.
// One iteration (α over-relaxation), all on tensors inside one tf.tidy:
//   W1 = Π(Z − U1)     on Ω: Y + g·(Z − U1 − Y), g = ε/max(‖(Z − U1 − Y)_Ω‖, ε);  off Ω: min(Z − U1, 0)
//   W2 = S_{1/ρ}(W3 − U2)
//   B = α·W1 + (1−α)·Z + U1,  E = α·W2 + (1−α)·W3 + U2
//   W3⁺ = C̃⁻¹·(X·B + E),  Z⁺ = Xt·W3⁺,  U1 = B − Z⁺,  U2 = E − W3⁺
// C̃⁻¹ = (X·Xt + I)⁻¹ is formed at setup: Gram on tfjs (f32), Cholesky and inverse in f64 JS.
import * as path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const C0_FACTOR = 0.3;

let initialised: { backend: string; simd: boolean; threads: boolean } | undefined;

/** Selects the tfjs wasm backend (single-threaded, SIMD if the runtime has it). Idempotent. */
export async function initTfjsWasm(): Promise<{ backend: string; simd: boolean; threads: boolean }> {
  if (initialised) return initialised;
  const require = createRequire(import.meta.url);
  // The package's main entry lives in dist/; the .wasm binaries sit beside it.
  const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  const distDir = dist.endsWith(`${path.sep}dist`) ? dist : path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  setWasmPaths(distDir + path.sep);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  const ok = await tf.setBackend("wasm");
  if (!ok) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const threads = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  initialised = { backend: tf.getBackend(), simd, threads };
  return initialised;
}

export interface TfjsAdmm {
  /** Runs n iterations, then dataSync()s one scalar to force completion. */
  iterate(n: number): void;
  /** The current sparse iterate W2, [N̄, M] (bias last row); zeros before the first iteration. */
  readW2(): Float32Array;
  /** Seconds spent in setup (scaling, Gram, Cholesky, inverse, uploads). */
  readonly setupSeconds: number;
  /** The scale c0 the data is divided by. */
  readonly scale: number;
  dispose(): void;
}

/**
 * (A)⁻¹ for a symmetric positive definite n×n matrix (row-major f64) via Cholesky A = LLᵀ:
 * A⁻¹ = L⁻ᵀ·L⁻¹. Throws if a pivot is not positive.
 */
export function invertSpd64(a: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const jo = j * n;
    let d = a[jo + j];
    for (let k = 0; k < j; k++) d -= L[jo + k] * L[jo + k];
    if (!(d > 0)) throw new Error(`Cholesky failed at pivot ${j}`);
    const ljj = Math.sqrt(d);
    L[jo + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const io = i * n;
      let s = a[io + j];
      for (let k = 0; k < j; k++) s -= L[io + k] * L[jo + k];
      L[io + j] = s * inv;
    }
  }
  // Li = L⁻¹ (lower triangular), by forward substitution on each column of I.
  const Li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const io = i * n;
    Li[io + i] = 1 / L[io + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[io + k] * Li[k * n + j];
      Li[io + j] = s / L[io + i];
    }
  }
  // A⁻¹ = Liᵀ·Li: (A⁻¹)_ij = Σ_{k ≥ max(i,j)} Li_ki·Li_kj.
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const ko = k * n;
    for (let i = 0; i <= k; i++) {
      const lki = Li[ko + i];
      if (lki === 0) continue;
      const io = i * n;
      for (let j = 0; j <= i; j++) out[io + j] += lki * Li[ko + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
  return out;
}

/** c0 = 0.3·sqrt(max(P, max column sum of squares of input)), as bindings/engine-wasm.ts. */
export function designScale(input: Float32Array, P: number, N: number): number {
  const col = new Float64Array(N);
  for (let p = 0; p < P; p++) {
    const o = p * N;
    for (let i = 0; i < N; i++) col[i] += input[o + i] * input[o + i];
  }
  let maxDiag = P;
  for (let i = 0; i < N; i++) if (col[i] > maxDiag) maxDiag = col[i];
  return maxDiag > 0 ? C0_FACTOR * Math.sqrt(maxDiag) : 1;
}

/**
 * Sets up the ADMM problem on tfjs (call initTfjsWasm first). epsilon is in original units.
 * Starts from W3 = 0, U1 = U2 = 0.
 */
export function createTfjsAdmm(
  input: Float32Array, P: number, N: number, output: Float32Array, M: number,
  epsilon: number, rho: number, alpha = 1.6,
): TfjsAdmm {
  if (input.length !== P * N) throw new Error(`input has ${input.length} values, expected P·N = ${P * N}`);
  if (output.length !== P * M) throw new Error(`output has ${output.length} values, expected P·M = ${P * M}`);
  const t0 = performance.now();
  const NB = N + 1;
  const c0 = designScale(input, P, N);
  const s = 1 / c0;

  // Xt (P×N̄) and X (N̄×P), scaled, built on the JS side.
  const xt = new Float32Array(P * NB);
  const x = new Float32Array(NB * P);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < N; i++) {
      const v = input[p * N + i] * s;
      xt[p * NB + i] = v;
      x[i * P + p] = v;
    }
    xt[p * NB + N] = s;
    x[N * P + p] = s;
  }
  const y = new Float32Array(P * M);
  for (let i = 0; i < P * M; i++) y[i] = output[i] * s;

  const Xt = tf.tensor2d(xt, [P, NB]);
  const X = tf.tensor2d(x, [NB, P]);
  const Y = tf.tensor2d(y, [P, M]);
  const mask = tf.tidy(() => tf.greater(tf.tensor2d(output, [P, M]), 0));
  const maskF = tf.tidy(() => tf.cast(mask, "float32"));

  // C̃⁻¹ = (X·Xt + I)⁻¹: Gram in f32 on tfjs, then f64 Cholesky + inverse.
  const gramT = tf.matMul(X, Xt);
  const gram32 = gramT.dataSync() as Float32Array;
  gramT.dispose();
  const gram = new Float64Array(NB * NB);
  for (let i = 0; i < NB * NB; i++) gram[i] = gram32[i];
  for (let i = 0; i < NB; i++) gram[i * NB + i] += 1;
  const inv = invertSpd64(gram, NB);
  const Cinv = tf.tensor2d(Float32Array.from(inv), [NB, NB]);

  const epsS = epsilon * s;
  const sEps = tf.scalar(epsS);
  const tau = 1 / rho;
  const sAlpha = tf.scalar(alpha);
  const sAlpha1 = tf.scalar(1 - alpha);
  const sZero = tf.scalar(0);
  const sOne = tf.scalar(1);

  let W3: tf.Tensor2D = tf.zeros([NB, M]);
  let W2: tf.Tensor2D = tf.zeros([NB, M]);
  let Z: tf.Tensor2D = tf.zeros([P, M]);
  let U1: tf.Tensor2D = tf.zeros([P, M]);
  let U2: tf.Tensor2D = tf.zeros([NB, M]);
  const setupSeconds = (performance.now() - t0) / 1000;

  const step = () => {
    const next = tf.tidy(() => {
      const t = tf.sub(Z, U1);
      const d = tf.sub(t, Y);
      const dm = tf.mul(d, maskF);
      const norm = tf.sqrt(tf.sum(tf.mul(dm, dm)));
      // g = ε/‖·‖ if ‖·‖ > ε else 1 (0/0 taken as 1, like assembly/admm.ts).
      const g = tf.where(tf.greater(norm, sEps), tf.div(sEps, norm), sOne);
      const w1 = tf.where(mask, tf.add(Y, tf.mul(g, d)), tf.minimum(t, sZero));
      // Soft-threshold: S_τ(v) = v − clip(v, −τ, τ) (exact zeros where |v| ≤ τ).
      const v = tf.sub(W3, U2);
      const w2 = tf.sub(v, tf.clipByValue(v, -tau, tau));
      const b = tf.add(tf.add(tf.mul(sAlpha, w1), tf.mul(sAlpha1, Z)), U1);
      const e = tf.add(tf.add(tf.mul(sAlpha, w2), tf.mul(sAlpha1, W3)), U2);
      const w3n = tf.matMul(Cinv, tf.add(tf.matMul(X, b), e));
      const zn = tf.matMul(Xt, w3n);
      return { W3: w3n, W2: w2, Z: zn, U1: tf.sub(b, zn), U2: tf.sub(e, w3n) } as Record<string, tf.Tensor2D>;
    });
    W3.dispose(); W2.dispose(); Z.dispose(); U1.dispose(); U2.dispose();
    ({ W3, W2, Z, U1, U2 } = next);
  };

  let disposed = false;
  const all = () => [Xt, X, Y, mask, maskF, Cinv, sEps, sAlpha, sAlpha1, sZero, sOne];
  return {
    setupSeconds,
    scale: c0,
    iterate(n: number) {
      if (disposed) throw new Error("disposed");
      for (let i = 0; i < n; i++) step();
      tf.tidy(() => tf.slice(U2, [0, 0], [1, 1]).dataSync());
    },
    readW2() {
      return (W2.dataSync() as Float32Array).slice();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const t of all()) t.dispose();
      W3.dispose(); W2.dispose(); Z.dispose(); U1.dispose(); U2.dispose();
    },
  };
}
