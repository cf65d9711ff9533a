// Self-check and timing of bench/tfjs-admm.ts.
//   npx tsx bench/tfjs-admm-check.mts
// 1. A small seeded relu problem (P=200, N=30, M=8, ε = 0.05‖Y‖_F, fixed ρ, α = 1.6): 300 iterations
//    on tfjs-wasm (f32) vs our pure-TS reference engine (bindings/engine-reference.ts) if it exists,
//    and vs a float64 loop written here; prints the max abs difference of W2.
// 2. One iteration on the MNIST first-layer shape (P=2000, N=784, M=300): median of 10 after 3 warm-ups.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { createTfjsAdmm, designScale, initTfjsWasm, invertSpd64 } from "./tfjs-admm.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { mulberry32 } from "../examples/seeded-random.ts";

const here = path.dirname(fileURLToPath(import.meta.url));


function smallProblem(seed: number, P: number, N: number, M: number) {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const input = new Float32Array(P * N);
  for (let i = 0; i < input.length; i++) input[i] = gauss();
  const w0 = new Float64Array(N * M);
  for (let i = 0; i < w0.length; i++) w0[i] = rnd() < 0.3 ? gauss() : 0;
  const b0 = new Float64Array(M);
  for (let j = 0; j < M; j++) b0[j] = 0.1 * gauss();
  const output = new Float32Array(P * M);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < M; j++) {
      let a = b0[j];
      for (let i = 0; i < N; i++) a += input[p * N + i] * w0[i * M + j];
      output[p * M + j] = a > 0 ? a : 0;
    }
  }
  return { input, output, P, N, M };
}

/** out (r×c) = A (r×k) · B (k×c), f64 row-major. */
function mm(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let l = 0; l < k; l++) {
      const a = A[i * k + l];
      if (a === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += a * B[l * c + j];
    }
  }
  return out;
}

/** The iteration of assembly/admm.ts in float64 (relu, V = 0), from W3 = U1 = U2 = 0. */
function admm64(input: Float32Array, P: number, N: number, output: Float32Array, M: number,
  epsilon: number, rho: number, alpha: number, iters: number): Float64Array {
  const NB = N + 1;
  const s = 1 / designScale(input, P, N);
  const xt = new Float64Array(P * NB), x = new Float64Array(NB * P);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < N; i++) { xt[p * NB + i] = input[p * N + i] * s; x[i * P + p] = input[p * N + i] * s; }
    xt[p * NB + N] = s; x[N * P + p] = s;
  }
  const y = Float64Array.from(output, (v) => v * s);
  const gram = mm(x, xt, NB, P, NB);
  for (let i = 0; i < NB; i++) gram[i * NB + i] += 1;
  const cinv = invertSpd64(gram, NB);
  const eps = epsilon * s, tau = 1 / rho;
  let w3: Float64Array = new Float64Array(NB * M), z: Float64Array = new Float64Array(P * M);
  const u1 = new Float64Array(P * M), u2 = new Float64Array(NB * M), w2 = new Float64Array(NB * M);
  const b = new Float64Array(P * M), e = new Float64Array(NB * M);
  for (let it = 0; it < iters; it++) {
    let sq = 0;
    for (let i = 0; i < P * M; i++) if (output[i] > 0) { const d = z[i] - u1[i] - y[i]; sq += d * d; }
    const n = Math.sqrt(sq);
    const g = n > eps ? eps / n : 1;
    for (let i = 0; i < P * M; i++) {
      const t = z[i] - u1[i];
      const w1 = output[i] > 0 ? y[i] + g * (t - y[i]) : Math.min(t, 0);
      b[i] = alpha * w1 + (1 - alpha) * z[i] + u1[i];
    }
    for (let i = 0; i < NB * M; i++) {
      const t = w3[i] - u2[i];
      const mag = Math.abs(t) - tau;
      w2[i] = mag > 0 ? Math.sign(t) * mag : 0;
      e[i] = alpha * w2[i] + (1 - alpha) * w3[i] + u2[i];
    }
    const d = mm(x, b, NB, P, M);
    for (let i = 0; i < NB * M; i++) d[i] += e[i];
    w3 = mm(cinv, d, NB, NB, M);
    z = mm(xt, w3, P, NB, M);
    for (let i = 0; i < P * M; i++) u1[i] = b[i] - z[i];
    for (let i = 0; i < NB * M; i++) u2[i] = e[i] - w3[i];
  }
  return w2;
}

function compare(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  let maxDiff = 0, maxAbs = 0, nzA = 0, nzB = 0, supportMismatch = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxAbs = Math.max(maxAbs, Math.abs(b[i]));
    if (a[i] !== 0) nzA++;
    if (b[i] !== 0) nzB++;
    if ((a[i] !== 0) !== (b[i] !== 0)) supportMismatch++;
  }
  console.log(`${label}: max|ΔW2| = ${maxDiff.toExponential(3)}, relative to max|W2| = ${(maxDiff / maxAbs).toExponential(3)} ` +
    `(max|W2| = ${maxAbs.toFixed(4)}, nonzeros ${nzA} vs ${nzB}, support mismatches ${supportMismatch})`);
}

const info = await initTfjsWasm();
console.log(`tfjs ${tf.version.tfjs}: backend=${info.backend} simd=${info.simd} threads=${info.threads}`);

// ---- 1. agreement on a small problem ----
{
  const { input, output, P, N, M } = smallProblem(12345, 200, 30, 8);
  let yy = 0;
  for (const v of output) yy += v * v;
  const epsilon = 0.05 * Math.sqrt(yy);
  const rho = 1, alpha = 1.6, iters = 300;
  console.log(`small problem P=${P} N=${N} M=${M}, ε=${epsilon.toFixed(4)}, ρ=${rho}, α=${alpha}, ${iters} iterations`);

  const before = tf.memory().numTensors;
  const admm = createTfjsAdmm(input, P, N, output, M, epsilon, rho, alpha);
  const afterSetup = tf.memory().numTensors;
  admm.iterate(1);
  const afterOne = tf.memory().numTensors;
  admm.iterate(iters - 1);
  const afterAll = tf.memory().numTensors;
  const w2tf = admm.readW2();
  admm.dispose();
  console.log(`tensors: before ${before}, after setup ${afterSetup}, after 1 it ${afterOne}, after ${iters} its ${afterAll}, after dispose ${tf.memory().numTensors}`);

  const w2ref64 = admm64(input, P, N, output, M, epsilon, rho, alpha, iters);
  compare("tfjs-wasm (f32) vs float64 loop", w2tf, w2ref64);

  const refPath = path.join(here, "..", "bindings", "engine-reference.ts");
  if (fs.existsSync(refPath)) {
    try {
      const mod = await import("../bindings/reference/engine.ts" as string);
      const problem = {
        P, N, M, input, output, upperBound: undefined, linear: false, activeThreshold: 0,
        sparse: false, designNonzeros: P * (N + 1),
      };
      const eng = mod.createReferenceEngine(problem);
      eng.start(epsilon, rho, alpha);
      eng.iterate(iters, false);
      const w2ref = eng.readW2();
      eng.dispose?.();
      compare("tfjs-wasm (f32) vs engine-reference", w2tf, w2ref);
      compare("engine-reference vs float64 loop", w2ref, w2ref64);
    } catch (err) {
      console.log(`engine-reference present but failed: ${(err as Error).message}`);
    }
  } else {
    console.log("bindings/engine-reference.ts not present: compared with the float64 loop only");
  }
}

// ---- 2. timing on the MNIST first-layer shape ----
{
  const prob = mnistLayerProblem(2000);
  let yy = 0;
  for (const v of prob.output) yy += v * v;
  const epsilon = 0.05 * Math.sqrt(yy);
  const admm = createTfjsAdmm(prob.input, prob.P, prob.N, prob.output, prob.M, epsilon, 1, 1.6);
  console.log(`MNIST layer 1: P=${prob.P} N=${prob.N} M=${prob.M}; setup ${admm.setupSeconds.toFixed(2)} s`);
  admm.iterate(3);
  const n0 = tf.memory().numTensors;
  const wall: number[] = [], cpu: number[] = [];
  for (let k = 0; k < 10; k++) {
    const c = process.cpuUsage();
    const t = performance.now();
    admm.iterate(1);
    wall.push(performance.now() - t);
    const dc = process.cpuUsage(c);
    cpu.push((dc.user + dc.system) / 1000);
  }
  const n1 = tf.memory().numTensors;
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
  const NB = prob.N + 1;
  const flops = 4 * NB * prob.M * prob.P + 2 * NB * NB * prob.M;
  console.log(`ms/iteration: median wall ${med(wall).toFixed(1)} (min ${Math.min(...wall).toFixed(1)}, max ${Math.max(...wall).toFixed(1)}), ` +
    `median CPU ${med(cpu).toFixed(1)}; ${(flops / med(wall) / 1e6).toFixed(2)} GFLOP/s wall`);
  console.log(`wall: ${wall.map((v) => v.toFixed(1)).join(" ")}`);
  console.log(`tensors across timed iterations: ${n0} -> ${n1}`);
  admm.dispose();
}
