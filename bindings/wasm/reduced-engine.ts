// The reduced form of a linear layer: its constraint depends on the data only through X̄ = [X | u]
// and Y, and with X̄ = QR (Householder, f64),
//   ‖X̄W − Y‖²_F = ‖RW − T‖²_F + floor²,   T = (QᵀY)[0..n),   floor² = ‖(QᵀY)[n..P)‖²_F,
// so the program on P samples is the same program on the n = N + 1 rows of R with the budget
// sqrt(ε² − floor²). An iteration then costs O(n²M) whatever P is. The QR runs once in the
// module's memory; R and T (n×n and n×M) are copied out and solved by the ordinary engine.
import { biasUnitOf } from "../solver/bias-unit.ts";
import type { AdmmEngine, LayerProblem, OutputMeasure } from "../solver/engine.ts";
import type { Backend } from "./loader.ts";
import { growMemoryFor, layout } from "./memory-plan.ts";
import { createWasmEngine } from "./engine.ts";

interface Reduction {
  /** n×n, rows as samples: R (upper triangular). */
  r: Float32Array;
  /** n×M targets. */
  t: Float32Array;
  floorSquared: number;
}

function reduce(backend: Backend, problem: LayerProblem): Reduction {
  const ex = backend.exports;
  const { P, N, M } = problem;
  const n = N + 1;
  const plan = layout(ex.heapBase() >>> 0, {
    input: P * N * 4, y: P * M * 4, a: n * P * 8, yt: M * P * 8, tau: n * 8, rdiag: n * 8,
  });
  const memory = backend.memory;
  growMemoryFor(memory, plan.end, `the reduced form of a linear layer with ${P} samples, ${N} inputs and ${M} outputs`);
  const o = plan.offsets;
  new Float32Array(memory.buffer, o.input, P * N).set(problem.input);
  new Float32Array(memory.buffer, o.y, P * M).set(problem.output);
  // Without a bias the bias column is zero: R then has a zero row and column, and the bias row of
  // the weights stays zero.
  ex.designByColumns64(P, N, o.input, problem.fitBias ? problem.biasUnit : 0, o.a);
  ex.transposeToF64(P, M, o.y, o.yt);
  ex.householderQr64(n, P, o.a, o.tau, o.rdiag);
  ex.applyQt64(n, P, o.a, o.tau, M, o.yt);

  const a = new Float64Array(memory.buffer, o.a, n * P);
  const rdiag = new Float64Array(memory.buffer, o.rdiag, n);
  const qy = new Float64Array(memory.buffer, o.yt, M * P);
  const r = new Float32Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < k; i++) r[i * n + k] = a[k * P + i];
    r[k * n + k] = rdiag[k];
  }
  const t = new Float32Array(n * M);
  let floorSquared = 0;
  for (let c = 0; c < M; c++) {
    for (let i = 0; i < n; i++) t[i * M + c] = qy[c * P + i];
    for (let i = n; i < P; i++) floorSquared += qy[c * P + i] * qy[c * P + i];
  }
  return { r, t, floorSquared };
}

/**
 * The engine for a linear layer in the reduced form (problem.P ≥ N + 1). Its outputFloor is
 * min over all weights of ‖X̄W − Y‖_F (by the f64 QR): no budget below it can be met.
 */
export function createReducedEngine(backend: Backend, problem: LayerProblem): AdmmEngine {
  const { N, M } = problem;
  const n = N + 1;
  const { r, t, floorSquared } = reduce(backend, problem);
  let nonzeros = 0;
  for (let i = 0; i < r.length; i++) if (r[i] !== 0) nonzeros++;
  // R's columns have the design's column norms, so the inner engine gets the same scale c0. Its
  // own bias column is off (the design's bias is row N of R already): its extra weight row
  // multiplies zeros, stays zero and is dropped.
  const inner = createWasmEngine(backend, {
    P: n, N: n, M, input: r, output: t, upperBound: undefined, linear: true,
    activeThreshold: problem.activeThreshold, sparse: false, fitBias: false,
    biasUnit: biasUnitOf(r, n, n), designNonzeros: nonzeros, form: "samples", l1Weighted: problem.l1Weighted,
  });
  const reducedBudget = (epsilon: number) => Math.sqrt(Math.max(epsilon * epsilon - floorSquared, 0));
  return {
    simd: inner.simd,
    threads: inner.threads,
    scale: inner.scale,
    residualEntries: n * M + (n + 1) * M,
    outputFloor: Math.sqrt(floorSquared),
    start(epsilon, rho, alpha, weights, u1, u2) {
      let w = weights;
      if (weights) {
        w = new Float32Array((n + 1) * M);
        w.set(weights);
      }
      inner.start(reducedBudget(epsilon), rho, alpha, w, u1, u2);
    },
    iterate: (count, stats) => inner.iterate(count, stats),
    stats: () => inner.stats(),
    setRho: (rho) => inner.setRho(rho),
    measureW2(): OutputMeasure {
      // The identity above, on the returned weights: the fit on R and T plus the floor.
      const reduced = inner.measureW2();
      const fit = Math.sqrt(reduced.fitError * reduced.fitError + floorSquared);
      return { fitError: fit, outputError: fit, leakage: 0 };
    },
    leastSquares: () => inner.leastSquares(),
    saveDual: () => inner.saveDual(),
    dualBound: (epsilon, source) => inner.dualBound(reducedBudget(epsilon), source),
    ...(inner.setL1Weights ? {
      setL1Weights(c: Float32Array | undefined) {
        // The inner engine's own bias row multiplies zeros: its weight (1) does not matter.
        const all = new Float32Array((n + 1) * M).fill(1);
        if (c) all.set(c);
        inner.setL1Weights!(all);
      },
    } : {}),
    readW2: () => inner.readW2().slice(0, n * M),
    readDual: () => inner.readDual(),
    dispose: () => inner.dispose(),
  };
}
