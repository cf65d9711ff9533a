// The pure-TS reference engine against ε = 0 optima computed by an independent LP solver
// (HiGHS, test/fixtures/lp-fixtures.json, made by scripts/make-lp-fixtures.py), plus the
// ρ-rescaling invariance. Every expected value here comes from the fixture or from loops in this
// file, never from the engine under test.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createReferenceEngine } from "../bindings/reference/engine.ts";
import { FactorizationError, type AdmmEngine, type LayerProblem } from "../bindings/solver/engine.ts";

interface LpFixture {
  name: string;
  kind: "relu" | "linear";
  P: number;
  N: number;
  M: number;
  input: number[];
  output: number[];
  /** The bias column's value (the largest RMS input feature), computed by the fixture script. */
  biasUnit: number;
  optimalL1: number;
  optimalWeights: number[];
  optimalBias: number[];
  solver: string;
  scipy: string;
}

const fixtures: LpFixture[] = JSON.parse(
  readFileSync(new URL("./fixtures/lp-fixtures.json", import.meta.url), "utf8"),
);

/** A dense LayerProblem (sparse false, activeThreshold 0). */
function layerProblem(
  P: number, N: number, M: number, input: ArrayLike<number>, output: ArrayLike<number>,
  linear: boolean, upperBound?: ArrayLike<number>, biasUnit = 1,
): LayerProblem {
  const x = Float32Array.from(input);
  let nonzeros = P; // the ones column
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) nonzeros++;
  return {
    P, N, M, input: x, output: Float32Array.from(output),
    upperBound: upperBound ? Float32Array.from(upperBound) : undefined,
    linear, activeThreshold: 0, sparse: false, fitBias: true, biasUnit, designNonzeros: nonzeros, form: "samples",
  };
}

function problemOf(f: LpFixture): LayerProblem {
  return layerProblem(f.P, f.N, f.M, f.input, f.output, f.kind === "linear", undefined, f.biasUnit);
}

function l1(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/** Fit and leakage of W̄ ([N+1, M], bias last) on the ORIGINAL data, computed independently in f64. */
function independentMeasure(f: LpFixture, input: Float32Array, output: Float32Array, w: ArrayLike<number>) {
  const { P, N, M } = f;
  let fit = 0;
  let leak = 0;
  for (let p = 0; p < P; p++) {
    for (let m = 0; m < M; m++) {
      let z = w[N * M + m] * f.biasUnit; // the engine's bias row is bias / biasUnit
      for (let n = 0; n < N; n++) z += input[p * N + n] * w[n * M + m];
      const y = output[p * M + m];
      if (f.kind === "linear" || y > 0) fit += (z - y) * (z - y);
      else leak = Math.max(leak, z);
    }
  }
  return { fitError: Math.sqrt(fit), leakage: leak };
}

function initialRho(engine: AdmmEngine): number {
  const rms = engine.leastSquares().rms;
  return rms > 0 && Number.isFinite(rms) ? 1 / rms : 1;
}

const MAX_ITER = 5000;
const BATCH = 10;

describe("reference engine: ε = 0 against the HiGHS LP optimum", () => {
  it("fixtures are present and come from the independent solver", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
    for (const f of fixtures) {
      expect(f.solver).toBe("HiGHS via scipy.optimize.linprog");
      expect(f.input.length).toBe(f.P * f.N);
      expect(f.output.length).toBe(f.P * f.M);
      expect(f.optimalWeights.length).toBe(f.N * f.M);
      expect(f.optimalBias.length).toBe(f.M);
      // The stored optimum is the objective of the stored weights: ‖W‖₁ + ‖b‖₁ / biasUnit.
      expect(l1(f.optimalWeights) + l1(f.optimalBias) / f.biasUnit).toBeCloseTo(f.optimalL1, 6);
    }
  });

  for (const f of fixtures) {
    it(`${f.name} (${f.kind}, P=${f.P}, N=${f.N}, M=${f.M}) reaches the LP optimum`, () => {
      const problem = problemOf(f);
      const engine = createReferenceEngine(problem);
      expect(engine.simd).toBe(false);
      const yNorm = frobenius(problem.output);
      const yMax = maxOf(problem.output);
      const rho = initialRho(engine);
      engine.start(0, rho, 1.6);

      let it = 0;
      let reached = false;
      let w2 = engine.readW2();
      let measure = engine.measureW2();
      while (it < MAX_ITER) {
        engine.iterate(BATCH, true);
        it += BATCH;
        w2 = engine.readW2();
        const norm = l1(w2);
        if (Math.abs(norm - f.optimalL1) > 0.01 * f.optimalL1) continue;
        measure = engine.measureW2();
        if (measure.fitError > 1e-3 * yNorm) continue;
        if (f.kind === "relu" && measure.leakage > 1e-3 * yMax) continue;
        reached = true;
        break;
      }
      const bound = engine.dualBound(0);
      const norm = l1(w2);
      console.log(
        `${f.name}: ${reached ? "reached" : "NOT reached"} after ${it} iterations (ρ = ${rho.toPrecision(4)}); ` +
          `‖W2‖₁ = ${norm.toFixed(6)} vs LP ${f.optimalL1.toFixed(6)}, fit ${measure.fitError.toExponential(2)}, ` +
          `leak ${measure.leakage.toExponential(2)}, dual bound ${bound.toFixed(6)}`,
      );
      expect(reached, `${f.name}: not within 1% of the LP optimum after ${it} iterations`).toBe(true);
      expect(Math.abs(norm - f.optimalL1)).toBeLessThanOrEqual(0.01 * f.optimalL1);

      // Weak duality: the certified bound can never exceed the optimum, and it is useful.
      expect(bound).toBeLessThanOrEqual(f.optimalL1 * (1 + 1e-6));
      expect(bound).toBeGreaterThanOrEqual(0.5 * f.optimalL1);

      // Honesty: the engine's measurement of W2 matches an independent f64 loop on the original data.
      const mine = independentMeasure(f, problem.input, problem.output, w2);
      expect(Math.abs(mine.fitError - measure.fitError)).toBeLessThanOrEqual(1e-6 * yNorm);
      expect(Math.abs(mine.leakage - measure.leakage)).toBeLessThanOrEqual(1e-6 * Math.max(yMax, 1));
      expect(mine.fitError).toBeLessThanOrEqual(1e-3 * yNorm * (1 + 1e-3));
      if (f.kind === "relu") expect(mine.leakage).toBeLessThanOrEqual(1e-3 * yMax * (1 + 1e-3));
    });
  }

  it("keeps converging: after 3000 iterations ‖W2‖₁ is within 0.2% of every LP optimum and the best bound within 2%", () => {
    for (const f of fixtures) {
      const engine = createReferenceEngine(problemOf(f));
      engine.start(0, initialRho(engine), 1.6);
      let best = 0;
      for (let it = 0; it < 3000; it += 250) {
        engine.saveDual();
        engine.iterate(250, true);
        const bound = engine.dualBound(0);
        expect(bound, f.name).toBeLessThanOrEqual(f.optimalL1 * (1 + 1e-6));
        // Any multiplier gives a valid bound, the dual's increment too (the infeasibility certificate).
        expect(engine.dualBound(0, "increment"), f.name).toBeLessThanOrEqual(f.optimalL1 * (1 + 1e-6));
        best = Math.max(best, bound);
      }
      expect(Math.abs(l1(engine.readW2()) - f.optimalL1), f.name).toBeLessThanOrEqual(2e-3 * f.optimalL1);
      expect(best, f.name).toBeGreaterThanOrEqual(0.98 * f.optimalL1);
    }
  });

  it("sends a dead neuron's column and the weights of all-zero inputs to zero", () => {
    const dead = fixtures.find((f) => f.name.includes("dead-neuron"))!;
    const zero = fixtures.find((f) => f.name.includes("zero-inputs"))!;
    for (const f of [dead, zero]) {
      const problem = problemOf(f);
      const engine = createReferenceEngine(problem);
      engine.start(0, initialRho(engine), 1.6);
      engine.iterate(1000, false);
      const w2 = engine.readW2();
      const { N, M } = f;
      // Dead neurons: output column all zero.
      for (let m = 0; m < M; m++) {
        let alive = false;
        for (let p = 0; p < f.P; p++) alive ||= problem.output[p * M + m] > 0;
        if (!alive) for (let n = 0; n <= N; n++) expect(w2[n * M + m]).toBe(0);
      }
      // All-zero input columns: their weights appear in no constraint.
      for (let n = 0; n < N; n++) {
        let used = false;
        for (let p = 0; p < f.P; p++) used ||= problem.input[p * N + n] !== 0;
        if (!used) for (let m = 0; m < M; m++) expect(w2[n * M + m]).toBe(0);
      }
    }
  });
});

// A deliberately naive transcription of the iteration in assembly/admm.ts (2-D arrays, explicit
// Gauss–Jordan inverse of C̃ instead of a Cholesky solve), to pin the exact iteration — the LP
// tests alone cannot tell apart variants that converge to the same optimum.
function naiveAdmm(
  input: number[][], output: number[][], upper: number[][] | undefined, linear: boolean,
  eps: number, rho: number, alpha: number, iterations: number, w3Start?: number[][],
) {
  const P = input.length, N = input[0].length, M = output[0].length, NB = N + 1;
  let maxDiag = P;
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += input[p][n] ** 2;
    maxDiag = Math.max(maxDiag, s);
  }
  const c0 = 0.3 * Math.sqrt(maxDiag);
  const xt = input.map((row) => [...row, 1].map((v) => v / c0)); // P×NB
  const y = output.map((row) => row.map((v) => v / c0));
  const v = output.map((row, p) => row.map((_, m) => (upper ? upper[p][m] / c0 : 0)));
  const omega = output.map((row) => row.map((o) => linear || o > 0));
  const e = eps / c0;
  // C̃ = XtᵀXt + I and its inverse (Gauss–Jordan with partial pivoting).
  const a = Array.from({ length: NB }, (_, i) =>
    Array.from({ length: 2 * NB }, (_, j) => (j < NB ? xt.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? 1 : 0) : j - NB === i ? 1 : 0)));
  for (let c = 0; c < NB; c++) {
    let piv = c;
    for (let r = c + 1; r < NB; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    [a[c], a[piv]] = [a[piv], a[c]];
    const d = a[c][c];
    for (let j = 0; j < 2 * NB; j++) a[c][j] /= d;
    for (let r = 0; r < NB; r++) if (r !== c) {
      const f = a[r][c];
      for (let j = 0; j < 2 * NB; j++) a[r][j] -= f * a[c][j];
    }
  }
  const cinv = a.map((row) => row.slice(NB));
  const zeros = (r: number, c: number) => Array.from({ length: r }, () => new Array<number>(c).fill(0));
  const xtTimes = (w: number[][]) => xt.map((row) => w[0].map((_, m) => row.reduce((s, x, k) => s + x * w[k][m], 0)));
  let w3 = w3Start ?? zeros(NB, M), u1 = zeros(P, M), u2 = zeros(NB, M), w2 = zeros(NB, M);
  let z = xtTimes(w3);
  let inside = 0;
  let stats = { r1: 0, r2: 0, s1: 0, s2: 0, w1: 0, w2: 0, z: 0, w3: 0, u1: 0, u2: 0 };
  for (let it = 0; it < iterations; it++) {
    let sq = 0;
    for (let p = 0; p < P; p++) for (let m = 0; m < M; m++) if (omega[p][m]) sq += (z[p][m] - u1[p][m] - y[p][m]) ** 2;
    const g = Math.sqrt(sq) > e ? e / Math.sqrt(sq) : 1;
    if (g === 1) inside++;
    const w1 = z.map((row, p) => row.map((zz, m) => {
      const t = zz - u1[p][m];
      return omega[p][m] ? y[p][m] + g * (t - y[p][m]) : Math.min(t, v[p][m]);
    }));
    w2 = w3.map((row, k) => row.map((ww, m) => {
      const t = ww - u2[k][m];
      return Math.sign(t) * Math.max(Math.abs(t) - 1 / rho, 0);
    }));
    const b = w1.map((row, p) => row.map((x, m) => alpha * x + (1 - alpha) * z[p][m] + u1[p][m]));
    const ee = w2.map((row, k) => row.map((x, m) => alpha * x + (1 - alpha) * w3[k][m] + u2[k][m]));
    const rhs = ee.map((row, k) => row.map((x, m) => x + xt.reduce((s, r, p) => s + r[k] * b[p][m], 0)));
    const w3n = cinv.map((row) => rhs[0].map((_, m) => row.reduce((s, c, k) => s + c * rhs[k][m], 0)));
    const zn = xtTimes(w3n);
    const nu1 = b.map((row, p) => row.map((x, m) => x - zn[p][m]));
    const nu2 = ee.map((row, k) => row.map((x, m) => x - w3n[k][m]));
    const ss = (f: (p: number, m: number) => number, rows: number) => {
      let s = 0;
      for (let p = 0; p < rows; p++) for (let m = 0; m < M; m++) s += f(p, m) ** 2;
      return s;
    };
    stats = {
      r1: ss((p, m) => w1[p][m] - zn[p][m], P), r2: ss((k, m) => w2[k][m] - w3n[k][m], NB),
      s1: ss((p, m) => zn[p][m] - z[p][m], P), s2: ss((k, m) => w3n[k][m] - w3[k][m], NB),
      w1: ss((p, m) => w1[p][m], P), w2: ss((k, m) => w2[k][m], NB), z: ss((p, m) => zn[p][m], P),
      w3: ss((k, m) => w3n[k][m], NB), u1: ss((p, m) => nu1[p][m], P), u2: ss((k, m) => nu2[k][m], NB),
    };
    w3 = w3n; z = zn; u1 = nu1; u2 = nu2;
  }
  return { w2: w2.flat(), u1: u1.flat(), u2: u2.flat(), stats, inside };
}

describe("reference engine: the exact iteration of admm.ts", () => {
  function seeded(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
  }

  // Cold starts with ε = 0.05·‖Y‖_F (always outside the ball), and a warm start from random
  // weights W3 with ε = 1.05·‖Xt·W3 − Y‖ (inside the ball on the first iteration).
  const cases = [
    ["relu", false, false, 13], ["relu", true, false, 12], ["linear", false, false, 11], ["linear", false, true, 14], ["relu", true, true, 15],
  ] as const;
  for (const [kind, withV, warm, seed] of cases) {
    it(`${kind}${withV ? " with an upper bound V" : ""}${warm ? ", warm start inside the ball" : ""}: W2, U1, U2 and the stats match a naive transcription`, () => {
      const rnd = seeded(seed);
      const P = 7, N = 4, M = 3;
      const input = Array.from({ length: P }, () => Array.from({ length: N }, () => Math.fround(2 * rnd())));
      input[3][1] = 0; // exercise the skipped zeros
      const output = Array.from({ length: P }, () => Array.from({ length: M }, () => Math.fround(Math.max(2 * rnd(), 0))));
      const upper = withV ? Array.from({ length: P }, () => Array.from({ length: M }, () => Math.fround(rnd()))) : undefined;
      const linear = kind === "linear";
      const w3 = warm ? Array.from({ length: N + 1 }, () => Array.from({ length: M }, () => Math.fround(rnd()))) : undefined;
      let eps: number;
      if (w3) {
        let sq = 0;
        for (let p = 0; p < P; p++) for (let m = 0; m < M; m++) {
          if (!linear && !(output[p][m] > 0)) continue;
          let z = w3[N][m];
          for (let n = 0; n < N; n++) z += input[p][n] * w3[n][m];
          sq += (z - output[p][m]) ** 2;
        }
        eps = 1.05 * Math.sqrt(sq);
      } else {
        eps = 0.05 * Math.sqrt(output.flat().reduce((t, x) => t + x * x, 0));
      }
      const rho = warm ? 5 : 0.7, alpha = 1.6, iters = 5;
      const expected = naiveAdmm(input, output, upper, linear, eps, rho, alpha, iters, w3);

      const engine = createReferenceEngine(layerProblem(P, N, M, input.flat(), output.flat(), linear, upper?.flat()));
      engine.start(eps, rho, alpha, w3 ? Float32Array.from(w3.flat()) : undefined);
      engine.iterate(iters, true);
      const close = (got: ArrayLike<number>, want: number[]) => {
        // The engine's copies are f32: compare to f32 rounding.
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(want[i]), 1e-3));
      };
      close(engine.readW2(), expected.w2);
      const dual = engine.readDual();
      close(dual.u1, expected.u1);
      close(dual.u2, expected.u2);
      const st = engine.stats();
      for (const k of Object.keys(expected.stats) as (keyof typeof st)[]) {
        expect(Math.abs(st[k] - expected.stats[k]), k).toBeLessThanOrEqual(1e-10 * Math.max(expected.stats[k], 1e-12));
      }
      expect(expected.stats.w2).toBeGreaterThan(0); // the soft threshold let something through
      // Both branches of the ball projection are exercised where intended.
      if (warm) expect(expected.inside).toBeGreaterThan(0);
      else expect(expected.inside).toBe(0);
    });
  }
});

describe("reference engine: setup", () => {
  it("throws FactorizationError when C̃ has a non-positive (here NaN) pivot", () => {
    expect(() => createReferenceEngine(layerProblem(2, 2, 1, [1, 2, NaN, 4], [1, 0], false))).toThrow(FactorizationError);
  });

  it("uses c0 = 0.3·sqrt(max(P, max column sum of squares))", () => {
    const mk = (input: number[], P: number) => createReferenceEngine(layerProblem(P, 2, 1, input, new Array(P).fill(0), true));
    expect(mk([3, 0, 4, 1], 2).scale).toBeCloseTo(0.3 * 5, 12); // column 0: 9 + 16 = 25 > P
    expect(mk([0.1, 0, 0.2, 0], 2).scale).toBeCloseTo(0.3 * Math.SQRT2, 12); // the bias row: P = 2
  });
});

describe("reference engine: setRho", () => {
  const f = fixtures[0];
  const problem = problemOf(f);

  function run(rho: number, changes: number[]) {
    const engine = createReferenceEngine(problem);
    engine.start(0, rho, 1.6);
    engine.iterate(30, true);
    for (const r of changes) engine.setRho(r);
    engine.iterate(30, true);
    return { w2: engine.readW2(), dual: engine.readDual(), stats: engine.stats(), measure: engine.measureW2() };
  }

  function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]));
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    return scale > 0 ? diff / scale : diff;
  }

  it("setRho(2ρ) then setRho(ρ) leaves the iterates unchanged", () => {
    const rho = initialRho(createReferenceEngine(problem));
    const plain = run(rho, []);
    const round = run(rho, [2 * rho, rho]);
    expect(maxRelDiff(plain.w2, round.w2)).toBeLessThanOrEqual(1e-12);
    expect(maxRelDiff(plain.dual.u1, round.dual.u1)).toBeLessThanOrEqual(1e-12);
    expect(maxRelDiff(plain.dual.u2, round.dual.u2)).toBeLessThanOrEqual(1e-12);
    // The f64 statistics are not rounded on the way out: a stricter check of the hidden state.
    for (const k of Object.keys(plain.stats) as (keyof typeof plain.stats)[]) {
      expect(Math.abs(plain.stats[k] - round.stats[k])).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(plain.stats[k]), 1e-300));
    }
    expect(Math.abs(plain.measure.fitError - round.measure.fitError)).toBeLessThanOrEqual(1e-12 * plain.measure.fitError);

    // Control: the comparison is sensitive — staying at 2ρ changes the iterates.
    const changed = run(rho, [2 * rho]);
    expect(maxRelDiff(plain.w2, changed.w2)).toBeGreaterThan(1e-4);
  });

  it("rescales the scaled duals by ρ_old/ρ_new", () => {
    const engine = createReferenceEngine(problem);
    const rho = initialRho(engine);
    engine.start(0, rho, 1.6);
    engine.iterate(30, false);
    const before = engine.readDual();
    engine.setRho(4 * rho);
    const after = engine.readDual();
    // Scaling by a power of two commutes with the f32 rounding of the copies: exact.
    for (let i = 0; i < before.u1.length; i++) expect(after.u1[i]).toBe(before.u1[i] / 4);
    for (let i = 0; i < before.u2.length; i++) expect(after.u2[i]).toBe(before.u2[i] / 4);
    expect(l1(before.u1)).toBeGreaterThan(0);
  });
});

describe("reference engine: plain dense loops", () => {
  it("skipZeros: false gives the same iterates", () => {
    const f = fixtures[3]; // has all-zero input columns
    const a = createReferenceEngine(problemOf(f));
    const b = createReferenceEngine(problemOf(f), { skipZeros: false });
    for (const e of [a, b]) { e.start(0.01, 2, 1.6); e.iterate(40, true); }
    const wa = a.readW2(), wb = b.readW2();
    let diff = 0;
    for (let i = 0; i < wa.length; i++) diff = Math.max(diff, Math.abs(wa[i] - wb[i]));
    expect(diff).toBeLessThan(1e-6);
    expect(l1(wa)).toBeGreaterThan(0);
  });
});
