// The baselines of issue 11 (magnitude, Wanda, SparseGPT): exact per-layer counts, inputs left
// alone, same bits twice; SparseGPT against a naive OBS written here (one column at a time,
// explicit inverse-Hessian downdates, no Cholesky, no lazy batches); the OBS update beats masking
// alone; Wanda's scores by hand; named validation errors.
import { describe, expect, it } from "vitest";
import { magnitudeBaseline, sparseGptPrune, wandaPrune, ShapeError, ValidationError, type BaselinePruner, type DenseLayerSpec, type DenseNetwork } from "../bindings/index.ts";
import { applyLayer } from "../bindings/network/forward.ts";
import { mulberry32 } from "../examples/seeded-random.ts";

const baselines: [string, BaselinePruner][] = [["magnitude", magnitudeBaseline], ["wanda", wandaPrune], ["sparsegpt", sparseGptPrune]];

function denseLayer(inputs: number, units: number, next: () => number, activation: "relu" | "linear", useBias = true): DenseLayerSpec {
  const kernel = new Float32Array(inputs * units).map(() => (next() - 0.5) * 2 / Math.sqrt(inputs));
  const bias = new Float32Array(units).map(() => (useBias ? next() - 0.5 : 0));
  return { name: `dense-${inputs}-${units}`, activation, kernel, bias, useBias, inputs, units };
}

/** Inputs in [0, 1) with about 40% zeros and input `dead` zero on every sample. */
function calibrationData(P: number, N: number, next: () => number, dead = -1): Float32Array {
  const x = new Float32Array(P * N).map(() => (next() < 0.4 ? 0 : next()));
  if (dead >= 0) for (let p = 0; p < P; p++) x[p * N + dead] = 0;
  return x;
}

function seededNetwork(seed: number): { network: DenseNetwork; x: Float32Array; P: number } {
  const next = mulberry32(seed);
  const layers = [denseLayer(30, 20, next, "relu"), denseLayer(20, 12, next, "relu", false), denseLayer(12, 5, next, "linear")];
  return { network: { layers, inputSize: 30 }, x: calibrationData(200, 30, next, 3), P: 200 };
}

const nonzeros = (l: DenseLayerSpec) => [...l.kernel, ...l.bias].filter((v) => v !== 0).length;

describe("every baseline", () => {
  for (const [name, prune] of baselines) {
    it(`${name}: exact per-layer counts, inputs unmodified, same bits twice`, () => {
      const { network, x, P } = seededNetwork(7);
      const before = network.layers.map((l) => [Float32Array.from(l.kernel), Float32Array.from(l.bias)]);
      const xBefore = Float32Array.from(x);
      for (const counts of [[0, 0, 0], [1, 7, 3], [301, 123, 40], [620, 240, 65], [400, 100, 1]]) {
        const pruned = prune(network, { data: x, rows: P, cols: 30 }, counts);
        expect(pruned.layers.map(nonzeros)).toEqual(counts);
        // Every kept parameter sits where the layer has one: no bias appears on a bias-less layer.
        expect([...pruned.layers[1].bias].every((v) => v === 0)).toBe(true);
        const again = prune(network, { data: x, rows: P, cols: 30 }, counts);
        again.layers.forEach((l, i) => {
          expect(l.kernel).toEqual(pruned.layers[i].kernel);
          expect(l.bias).toEqual(pruned.layers[i].bias);
        });
      }
      network.layers.forEach((l, i) => {
        expect(l.kernel).toEqual(before[i][0]);
        expect(l.bias).toEqual(before[i][1]);
      });
      expect(x).toEqual(xBefore);
    });

    it(`${name}: validation errors name the argument`, () => {
      const { network, x, P } = seededNetwork(8);
      const cal = { data: x, rows: P, cols: 30 };
      const fails = (f: () => unknown) => { try { f(); } catch (e) { return e as Error & { field?: string }; } throw new Error("no error thrown"); };
      let e = fails(() => prune(network, cal, [1, 2]));
      expect(e).toBeInstanceOf(ValidationError);
      expect(e.field).toBe("perLayerNonzeros");
      e = fails(() => prune(network, cal, [1, 241, 3]));
      expect(e.field).toBe("perLayerNonzeros[1]");
      expect(e.message).toContain("an integer in [0, 240]");
      e = fails(() => prune(network, cal, [1.5, 2, 3]));
      expect(e.field).toBe("perLayerNonzeros[0]");
      e = fails(() => prune(network, x as never, [1, 2, 3]));
      expect(e.field).toBe("calibration");
      e = fails(() => prune(network, { data: x, rows: P * 2, cols: 15 }, [1, 2, 3]));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toContain("calibration has 15 features per sample");
      e = fails(() => prune({ ...network, layers: [] }, cal, []));
      expect(e.field).toBe("network");
    });
  }
});

// ---------------------------------------------------------------------------------------------
// SparseGPT against the naive OBS.

/** SparseGPT's algorithm column by column in f64 with the inverse Hessian of the remaining columns kept explicitly. */
function naiveSparseGpt(layer: DenseLayerSpec, x: Float32Array, P: number, keep: number): Float64Array[] {
  const N = layer.inputs, M = layer.units, n = N + 1;
  const w = Array.from({ length: n }, (_, j) => Float64Array.from({ length: M }, (_, o) => (j < N ? layer.kernel[j * M + o] : layer.bias[o])));
  const xt = (p: number, j: number) => (j < N ? x[p * N + j] : 1);
  const h = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let p = 0; p < P; p++) s += xt(p, i) * xt(p, j);
    return (2 * s) / P;
  }));
  for (let j = 0; j < n; j++) if (h[j][j] === 0) { h[j][j] = 1; w[j].fill(0); }
  const damp = (0.01 * h.reduce((s, row, j) => s + row[j], 0)) / n;
  for (let j = 0; j < n; j++) h[j][j] += damp;
  // Gauss-Jordan inverse.
  const a = h.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const piv = a[c][c];
    for (let j = 0; j < 2 * n; j++) a[c][j] /= piv;
    for (let r = 0; r < n; r++) if (r !== c) { const f = a[r][c]; for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[c][j]; }
  }
  let hinv = a.map((row) => Float64Array.from(row.slice(n)));
  // Removes column j from the inverse of the remaining Hessian (the OBS downdate).
  const downdate = (g: Float64Array[], j: number) => g.map((row, r) => row.map((v, c) => v - (g[r][j] * g[j][c]) / g[j][j]));
  const nonzero = (j: number) => w[j].filter((v) => v !== 0).length;
  const starts = [];
  for (let s = 0; s < n; s += 128) starts.push(s);
  const blockNonzeros = starts.map((s) => Array.from({ length: Math.min(s + 128, n) - s }, (_, t) => nonzero(s + t)).reduce((p, q) => p + q, 0));
  const total = blockNonzeros.reduce((p, q) => p + q, 0);
  let cumulative = 0;
  const through = blockNonzeros.map((c) => Math.round((keep * (cumulative += c)) / total));
  for (const [b, s] of starts.entries()) {
    const e = Math.min(s + 128, n);
    // d_j = [inverse Hessian of columns j..n−1]_jj, read along the chain of downdates.
    const d: number[] = [];
    let g = hinv;
    for (let j = s; j < e; j++) { d.push(g[j][j]); g = downdate(g, j); }
    const entries = [];
    for (let j = s; j < e; j++) for (let o = 0; o < M; o++) entries.push({ flat: (j - s) * M + o, j, o, score: w[j][o] ** 2 / d[j - s] });
    entries.sort((p, q) => q.score - p.score || p.flat - q.flat);
    const kept = new Set(entries.slice(0, through[b] - (b > 0 ? through[b - 1] : 0)).map((t) => t.flat));
    for (let j = s; j < e; j++) {
      for (let o = 0; o < M; o++) {
        if (kept.has((j - s) * M + o)) continue;
        const scale = w[j][o] / hinv[j][j];
        for (let k = j; k < n; k++) w[k][o] -= scale * hinv[j][k];
        w[j][o] = 0;
      }
      hinv = downdate(hinv, j);
    }
  }
  return w;
}

/** ‖X̃·(A − B)‖_F with X̃ = [x, 1] and A, B given as [kernel rows…, bias]. */
function reconstructionError(x: Float32Array, P: number, N: number, M: number, a: (j: number, o: number) => number, b: (j: number, o: number) => number): number {
  let s = 0;
  for (let p = 0; p < P; p++) {
    for (let o = 0; o < M; o++) {
      let r = a(N, o) - b(N, o);
      for (let j = 0; j < N; j++) r += x[p * N + j] * (a(j, o) - b(j, o));
      s += r * r;
    }
  }
  return Math.sqrt(s);
}

describe("SparseGPT", () => {
  const next = mulberry32(11);
  const N = 150, M = 4, P = 300; // 151 columns with the bias: a full block of 128 and one of 23.
  const layer = denseLayer(N, M, next, "linear");
  const x = calibrationData(P, N, next, 5);
  const network: DenseNetwork = { layers: [layer], inputSize: N };

  for (const keep of [17, 240, 451]) {
    it(`matches the naive OBS within 1e-6 at ${keep} kept of ${(N + 1) * M}`, () => {
      const [pruned] = sparseGptPrune(network, { data: x, rows: P, cols: N }, [keep]).layers;
      const expected = naiveSparseGpt(layer, x, P, keep);
      let worst = 0, sameSupport = true;
      for (let j = 0; j <= N; j++) {
        for (let o = 0; o < M; o++) {
          const got = j < N ? pruned.kernel[j * M + o] : pruned.bias[o];
          worst = Math.max(worst, Math.abs(got - expected[j][o]) / Math.max(1, Math.abs(expected[j][o])));
          if ((got === 0) !== (expected[j][o] === 0)) sameSupport = false;
        }
      }
      expect(sameSupport).toBe(true);
      expect(worst).toBeLessThan(1e-6);
      expect(expected.every((row, j) => j !== 5 || row.every((v) => v === 0))).toBe(true);
    });
  }

  it("its OBS update lowers the reconstruction error against masking alone on the same mask", () => {
    const [pruned] = sparseGptPrune(network, { data: x, rows: P, cols: N }, [240]).layers;
    const original = (j: number, o: number) => (j < N ? layer.kernel[j * M + o] : layer.bias[o]);
    const obs = (j: number, o: number) => (j < N ? pruned.kernel[j * M + o] : pruned.bias[o]);
    const masked = (j: number, o: number) => (obs(j, o) !== 0 ? original(j, o) : 0);
    const withUpdate = reconstructionError(x, P, N, M, obs, original);
    const maskOnly = reconstructionError(x, P, N, M, masked, original);
    expect(withUpdate).toBeLessThan(0.8 * maskOnly);
  });

  it("calibrates each layer on the already-pruned network's signals", () => {
    const { network: net, x: cal, P: rows } = seededNetwork(9);
    const counts = [300, 90, 30];
    const whole = sparseGptPrune(net, { data: cal, rows, cols: 30 }, counts);
    const hidden = applyLayer(whole.layers[0], cal, rows, true);
    const [second] = sparseGptPrune({ layers: [net.layers[1]], inputSize: 20 }, { data: hidden, rows, cols: 20 }, [counts[1]]).layers;
    expect(second.kernel).toEqual(whole.layers[1].kernel);
  });
});

// ---------------------------------------------------------------------------------------------
// Wanda by hand.

describe("Wanda", () => {
  // Inputs: 2 samples, column norms ‖x_i‖ = 5, 1, 1, 2.
  const x = Float32Array.from([3, 0, 1, 2, 4, 1, 0, 0]);
  // kernel[i][o] for inputs i = 0..3 and units o = 0..2.
  const kernel = Float32Array.from([0.1, -0.5, 0.25, 2.0, 0.3, -1.25, -0.3, 4.0, 0.05, 0.4, -0.2, 0.75]);
  const layer = (bias: number[] | null): DenseLayerSpec => ({
    name: "hand", activation: "linear", kernel, bias: Float32Array.from(bias ?? [0, 0, 0]), useBias: bias !== null, inputs: 4, units: 3,
  });
  const kept = (l: DenseLayerSpec) => [0, 1, 2].map((o) => [0, 1, 2, 3].filter((i) => l.kernel[i * 3 + o] !== 0).concat(l.bias[o] !== 0 ? ["b" as never] : []));

  it("keeps each neuron's highest |W|·‖x‖, the remainder to the best next score, ties to the lower input", () => {
    // Scores: unit 0: 0.5, 2.0, 0.3, 0.8; unit 1: 2.5, 0.3, 4.0, 0.4; unit 2: 1.25, 1.25 (tie), 0.05, 1.5.
    // 7 kept: 2 each; the third-best scores are 0.5, 0.4, 1.25: unit 2 keeps a third (input 1 after the tie).
    const [pruned] = wandaPrune({ layers: [layer(null)], inputSize: 4 }, { data: x, rows: 2, cols: 4 }, [7]).layers;
    expect(kept(pruned)).toEqual([[1, 3], [0, 2], [0, 1, 3]]);
    expect(pruned.kernel[1 * 3 + 2]).toBe(kernel[1 * 3 + 2]);
    // 5 kept: 1 each; the second-best scores are 0.8, 2.5, 1.25: units 1 and 2 keep a second
    // (unit 2's is input 0: its tie with input 1 goes to the lower input).
    const [five] = wandaPrune({ layers: [layer(null)], inputSize: 4 }, { data: x, rows: 2, cols: 4 }, [5]).layers;
    expect(kept(five)).toEqual([[1], [0, 2], [0, 3]]);
  });

  it("ranks the bias as the weight of a constant input of norm √P", () => {
    // Bias scores √2·(1, 0.1, 0.2) = 1.41, 0.14, 0.28: unit 0 keeps input 1 (2.0) and its bias (1.41) over input 3 (0.8).
    const [pruned] = wandaPrune({ layers: [layer([1, 0.1, 0.2])], inputSize: 4 }, { data: x, rows: 2, cols: 4 }, [6]).layers;
    expect(kept(pruned)).toEqual([[1, "b"], [0, 2], [0, 3]]);
  });
});
