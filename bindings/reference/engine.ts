// The pure-TypeScript reference engine: the same ADMM iteration as assembly/admm.ts (and the same
// measurements as assembly/measure.ts), in float64 throughout, with plain loops over typed arrays.
// It is the test oracle for the WebAssembly engine and the "pure JS" side of the benchmark.
//
// Layout (as in admm.ts): samples are rows. Xt is P×N̄ (input with a bias column of biasUnit, divided by c0),
// X = Xtᵀ is N̄×P, every M-wide matrix is row-major. Scaled units: Y, V, ε divided by c0.
//   W1, U1, Y, V, Z = Xt·W3      P×M
//   W2, W3, U2                   N̄×M
// One iteration:
//   W1 = Π_K(Z − U1),            W2 = S_{c/ρ}(W3 − U2)   (c = 1, or the ℓ1 weights of reweighting)
//   B  = α·W1 + (1−α)·Z + U1,    E  = α·W2 + (1−α)·W3 + U2
//   W3⁺ = C̃⁻¹ (X·B + E)          (Cholesky factor of C̃ = X·Xᵀ + I, computed once)
//   Z⁺ = Xt·W3⁺,  U1 = B − Z⁺,   U2 = E − W3⁺
// `problem.sparse` is ignored: the dense products skip zero entries of the left operand anyway.
import type { AdmmEngine, IterationStats, LayerProblem, OutputMeasure } from "../solver/engine.ts";
import { neuronDualTerms, perNeuronDualBound } from "../solver/dual-bound.ts";
import { buildDesignAndFactor, cholSolve, productXB, productXtW, type Design } from "./design.ts";

/** The ADMM's variables (scaled units). `z`/`zNext` and `w3`/`w3Next` swap every iteration. */
interface State {
  epsilon: number;
  rho: number;
  alpha: number;
  u1: Float64Array;
  b: Float64Array;
  z: Float64Array;
  zNext: Float64Array;
  w3: Float64Array;
  w3Next: Float64Array;
  w2: Float64Array;
  u2: Float64Array;
  e: Float64Array;
  d: Float64Array;
  /** Per-weight ℓ1 weights c (N̄×M), or undefined for all 1. */
  c: Float64Array | undefined;
  stats: IterationStats;
}

// ---------------------------------------------------------------------------------------------
// The iteration, one function per step

/** g of the ε-ball projection: ε / max(‖(Z − U1 − Y)_Ω‖, ε), with 0/0 taken as 1. */
function ballScale(D: Design, S: State): number {
  let sq = 0;
  for (let i = 0; i < D.P * D.M; i++) {
    if (!D.linear && D.mask[i] === 0) continue;
    const d = S.z[i] - S.u1[i] - D.y[i];
    sq += d * d;
  }
  const n = Math.sqrt(sq);
  return n > S.epsilon ? S.epsilon / n : 1;
}

/** W1 = Π_K(Z − U1); B = α·W1 + (1−α)·Z + U1. Returns ‖W1‖². */
function updateW1(D: Design, S: State): number {
  const g = ballScale(D, S);
  const a = S.alpha;
  const a1 = 1 - S.alpha;
  let w1sq = 0;
  for (let i = 0; i < D.P * D.M; i++) {
    const z = S.z[i];
    const u = S.u1[i];
    const t = z - u;
    let w1: number;
    if (D.linear || D.mask[i] !== 0) {
      const y = D.y[i];
      w1 = y + g * (t - y);
    } else {
      const v = D.v[i];
      w1 = t < v ? t : v;
    }
    w1sq += w1 * w1;
    S.b[i] = a * w1 + a1 * z + u;
  }
  return w1sq;
}

/** W2 = S_{c/ρ}(W3 − U2); E = α·W2 + (1−α)·W3 + U2. */
function updateW2(D: Design, S: State): void {
  const tau = 1 / S.rho;
  const c = S.c;
  const a = S.alpha;
  const a1 = 1 - S.alpha;
  for (let i = 0; i < D.NB * D.M; i++) {
    const w3 = S.w3[i];
    const u = S.u2[i];
    const t = w3 - u;
    const mag = Math.abs(t) - (c ? tau * c[i] : tau);
    const w2 = mag > 0 ? (t > 0 ? mag : -mag) : 0;
    S.w2[i] = w2;
    S.e[i] = a * w2 + a1 * w3 + u;
  }
}

/** W3⁺ = C̃⁻¹ (X·B + E), into w3Next. */
function updateW3(D: Design, S: State): void {
  productXB(D, S.b, S.d);
  for (let i = 0; i < D.NB * D.M; i++) S.d[i] += S.e[i];
  S.w3Next.set(S.d);
  cholSolve(D.NB, D.M, D.chol, S.w3Next);
}

/** U2 = E − W3⁺, with the weight-side statistics. */
function updateU2(D: Design, S: State, st: IterationStats | undefined): void {
  let r2 = 0, s2 = 0, w2sq = 0, w3sq = 0, u2sq = 0;
  for (let i = 0; i < D.NB * D.M; i++) {
    const w3n = S.w3Next[i];
    const u = S.e[i] - w3n;
    S.u2[i] = u;
    if (st) {
      const w2 = S.w2[i];
      const dw = w3n - S.w3[i];
      r2 += (w2 - w3n) * (w2 - w3n);
      s2 += dw * dw;
      w2sq += w2 * w2;
      w3sq += w3n * w3n;
      u2sq += u * u;
    }
  }
  if (st) {
    st.r2 = r2; st.s2 = s2; st.w2 = w2sq; st.w3 = w3sq; st.u2 = u2sq;
  }
}

/** Z⁺ = Xt·W3⁺; U1 = B − Z⁺, with the output-side statistics. */
function updateU1(D: Design, S: State, st: IterationStats | undefined): void {
  productXtW(D, S.w3Next, S.zNext);
  let r1 = 0, s1 = 0, zsq = 0, u1sq = 0;
  const inva = 1 / S.alpha;
  for (let i = 0; i < D.P * D.M; i++) {
    const zn = S.zNext[i];
    const b = S.b[i];
    if (st) {
      // Recover the unrelaxed W1 from B = α·W1 + (1−α)·Z + U1 (as admm.ts does).
      const zo = S.z[i];
      const w1 = (b - S.u1[i] - (1 - S.alpha) * zo) * inva;
      const un = b - zn;
      r1 += (w1 - zn) * (w1 - zn);
      s1 += (zn - zo) * (zn - zo);
      zsq += zn * zn;
      u1sq += un * un;
    }
    S.u1[i] = b - zn;
  }
  if (st) {
    st.r1 = r1; st.s1 = s1; st.z = zsq; st.u1 = u1sq;
  }
}

function swapCurrentAndNext(S: State): void {
  let t = S.z; S.z = S.zNext; S.zNext = t;
  t = S.w3; S.w3 = S.w3Next; S.w3Next = t;
}

function iterateOnce(D: Design, S: State, withStats: boolean): void {
  const st = withStats ? emptyStats() : undefined;
  const w1sq = updateW1(D, S);
  updateW2(D, S);
  updateW3(D, S);
  updateU2(D, S, st);
  updateU1(D, S, st);
  swapCurrentAndNext(S);
  if (st) {
    st.w1 = w1sq;
    S.stats = st;
  }
}

function emptyStats(): IterationStats {
  return { r1: 0, r2: 0, s1: 0, s2: 0, w1: 0, w2: 0, z: 0, w3: 0, u1: 0, u2: 0 };
}

// ---------------------------------------------------------------------------------------------
// Measurements (scaled units inside, original units out)

/** Fit, output error and leakage of Z (scaled) against Y, in original units. */
function measureOutput(D: Design, z: Float64Array): OutputMeasure {
  let fit = 0, out = 0, leak = 0;
  for (let i = 0; i < D.P * D.M; i++) {
    const zi = z[i];
    const yi = D.y[i];
    if (D.linear) {
      const d = zi - yi;
      fit += d * d;
      out += d * d;
      continue;
    }
    const act = zi < 0 ? 0 : zi; // NaN stays NaN
    out += (act - yi) * (act - yi);
    if (D.mask[i] !== 0) fit += (zi - yi) * (zi - yi);
    else if (zi - D.v[i] > leak || Number.isNaN(zi - D.v[i])) leak = zi - D.v[i];
  }
  return { fitError: Math.sqrt(fit) * D.c0, outputError: Math.sqrt(out) * D.c0, leakage: leak * D.c0 };
}

/**
 * Weak-duality bound (SPEC §8) from Λ = −U1, clipped to Λ ≥ 0 on Ω^c: −σ_K(Λ)/‖X·Λᵀ‖_max.
 * The ratio is invariant under the c0 scaling, so it is the bound in original units.
 */
function dualBound(D: Design, S: State, epsilon: number, saved?: Float64Array): number {
  const lam = new Float64Array(D.P * D.M);
  for (let i = 0; i < D.P * D.M; i++) {
    const l = saved ? saved[i] - S.u1[i] : -S.u1[i];
    lam[i] = !D.linear && D.mask[i] === 0 && l < 0 ? 0 : l;
  }
  const xl = new Float64Array(D.NB * D.M);
  productXB(D, lam, xl);
  const t = neuronDualTerms(lam, D.y, D.hasV ? D.v : undefined, D.linear ? undefined : D.mask, xl, D.P, D.NB, D.M, S.c);
  return perNeuronDualBound(t.a, t.b, t.c, epsilon * D.s);
}

/** RMS and ℓ1 norm of the ridge least-squares weights C̃⁻¹·X·Y (scaled problem). */
function leastSquares(D: Design): { rms: number; l1: number } {
  const w = new Float64Array(D.NB * D.M);
  productXB(D, D.y, w);
  cholSolve(D.NB, D.M, D.chol, w);
  let sq = 0, l1 = 0;
  for (let i = 0; i < w.length; i++) {
    sq += w[i] * w[i];
    l1 += Math.abs(w[i]);
  }
  return { rms: w.length > 0 ? Math.sqrt(sq / w.length) : 0, l1 };
}

// ---------------------------------------------------------------------------------------------

/**
 * The pure-TypeScript engine. `skipZeros: false` runs the products as plain dense loops (the
 * "plain JS" baseline of the benchmark); the results are the same either way.
 */
export function createReferenceEngine(problem: LayerProblem, options: { skipZeros?: boolean } = {}): AdmmEngine {
  const D = buildDesignAndFactor(problem, options.skipZeros ?? true);
  const nOut = D.P * D.M;
  const nW = D.NB * D.M;
  const S: State = {
    epsilon: 0, rho: 1, alpha: 1.6,
    u1: new Float64Array(nOut), b: new Float64Array(nOut), z: new Float64Array(nOut), zNext: new Float64Array(nOut),
    w3: new Float64Array(nW), w3Next: new Float64Array(nW), w2: new Float64Array(nW), u2: new Float64Array(nW),
    e: new Float64Array(nW), d: new Float64Array(nW), c: undefined,
    stats: emptyStats(),
  };
  let saved: Float64Array = new Float64Array(nOut);
  let ridge: { rms: number; l1: number } | undefined;

  return {
    simd: false,
    threads: 1,
    scale: D.c0,
    start(epsilon, rho, alpha, weights, u1, u2) {
      S.epsilon = epsilon * D.s;
      S.rho = rho;
      S.alpha = alpha;
      if (weights) S.w3.set(weights);
      else S.w3.fill(0);
      if (u1) S.u1.set(u1);
      else S.u1.fill(0);
      if (u2) S.u2.set(u2);
      else S.u2.fill(0);
      S.w2.fill(0);
      productXtW(D, S.w3, S.z);
    },
    iterate(count, stats) {
      for (let it = 0; it < count; it++) iterateOnce(D, S, stats && it === count - 1);
    },
    stats() {
      return { ...S.stats };
    },
    setRho(rho) {
      const f = S.rho / rho;
      for (let i = 0; i < nOut; i++) S.u1[i] *= f;
      for (let i = 0; i < nW; i++) S.u2[i] *= f;
      S.rho = rho;
    },
    measureW2() {
      productXtW(D, S.w2, S.zNext);
      return measureOutput(D, S.zNext);
    },
    leastSquares() {
      return (ridge ??= leastSquares(D)); // fixed by the data
    },
    saveDual() {
      saved = Float64Array.from(S.u1);
    },
    dualBound(epsilon, source = "current") {
      return dualBound(D, S, epsilon, source === "increment" ? saved : undefined);
    },
    setL1Weights(c) {
      S.c = c ? Float64Array.from(c) : undefined;
    },
    readW2() {
      return Float32Array.from(S.w2);
    },
    readDual() {
      return { u1: Float32Array.from(S.u1), u2: Float32Array.from(S.u2) };
    },
    dispose() {},
  };
}
