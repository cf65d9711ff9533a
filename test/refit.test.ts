// The refit on the support: one layer's least-squares solve against the test's own normal
// equations, the zeros kept, the fit no worse than the un-refitted weights; pruneNetwork's
// `refit` option (support unchanged, honest end-to-end numbers, the guarantee flagged), and a
// bad option refused by name.
import { describe, expect, it } from "vitest";
import { pruneNetwork } from "../bindings/network/prune-network.ts";
import { refitLayer, REFIT_DAMPENING, REFIT_ROUNDS } from "../bindings/network/refit.ts";
import { ValidationError } from "../bindings/errors.ts";
import type { DenseLayerSpec, DenseNetwork } from "../bindings/network/network.ts";
import { forward, gaussian, rng, seededNetwork } from "./helpers/problems.ts";
import { gaussSolve } from "./helpers/gauss-solve.ts";

/** A sparse layer (some biases zero), Gaussian inputs with input 3 dead, and a noisy target. */
function seededLayer(seed: number, P: number, N: number, M: number) {
  const g = gaussian(seed), u = rng(seed + 1);
  const x = new Float32Array(P * N).map((_, i) => (i % N === 3 ? 0 : g()));
  const kernel = new Float32Array(N * M).map(() => (u() < 0.4 ? g() : 0));
  const bias = new Float32Array(M).map((_, o) => (o % 3 === 0 ? 0 : g()));
  const layer: DenseLayerSpec = { name: "dense", activation: "relu", kernel, bias, useBias: true, inputs: N, units: M };
  const trueKernel = new Float32Array(N * M).map(() => g());
  const z = forward(x, trueKernel, new Float32Array(M).fill(0.5), P, N, M, false).map((v) => v + 0.1 * g());
  return { layer, x, z };
}

describe("refitLayer", () => {
  const P = 200, N = 12, M = 7;
  const { layer, x, z } = seededLayer(11, P, N, M);
  const linear = refitLayer(layer, x, P, z, false);
  const relu = refitLayer(layer, x, P, z, true);

  /** Neuron o's kept inputs, and its design column s on sample p (the bias's column of ones last). */
  const design = (o: number) => {
    const support = [...Array(N).keys()].filter((i) => layer.kernel[i * M + o] !== 0);
    const withBias = layer.bias[o] !== 0;
    const k = support.length + (withBias ? 1 : 0);
    const column = (p: number, s: number) => (s < support.length ? x[p * N + support[s]] : 1);
    const pick = (kernel: ArrayLike<number>, bias: ArrayLike<number>) => [...support.map((i) => kernel[i * M + o]), ...(withBias ? [bias[o]] : [])];
    const apply = (w: number[]) => Array.from({ length: P }, (_, p) => w.reduce((s, v, j) => s + column(p, j) * v, 0));
    const gram = () => Array.from({ length: k }, (_, s) => Array.from({ length: k }, (_, u) => {
      let sum = 0;
      for (let p = 0; p < P; p++) sum += column(p, s) * column(p, u);
      return sum;
    }));
    /** The ridge δ = λ·mean diagonal of XᵀX. */
    const delta = () => REFIT_DAMPENING * gram().reduce((sum, row, i) => sum + row[i], 0) / k;
    /** The damped normal equations (XᵀX + δI)w = Xᵀt, solved here. */
    const solve = (t: number[]) => {
      const a = gram();
      const d = delta();
      a.forEach((row, i) => { row[i] += d; });
      const r = Array.from({ length: k }, (_, s) => { let sum = 0; for (let p = 0; p < P; p++) sum += column(p, s) * t[p]; return sum; });
      return gaussSolve(a, r);
    };
    return { pick, apply, solve, delta };
  };
  const expectClose = (got: number[], expected: number[]) => {
    const scale = Math.sqrt(expected.reduce((s, v) => s + v * v, 0));
    got.forEach((v, s) => expect(Math.abs(v - expected[s])).toBeLessThanOrEqual(1e-8 * scale));
  };

  it("keeps every zero a zero (the support never grows)", () => {
    for (const refit of [linear, relu]) {
      for (let i = 0; i < N * M; i++) if (layer.kernel[i] === 0) expect(refit.kernel[i]).toBe(0);
      for (let o = 0; o < M; o++) if (layer.bias[o] === 0) expect(refit.bias[o]).toBe(0);
      // A kept weight on the dead input has nothing to fit: the ridge makes it exactly zero.
      for (let o = 0; o < M; o++) expect(refit.kernel[3 * M + o]).toBe(0);
      expect(refit.kernel.filter((v) => v !== 0).length).toBeGreaterThan(0.3 * N * M);
    }
  });

  it("linear: equals each neuron's damped normal-equations solve, computed here (1e-8 relative)", () => {
    for (let o = 0; o < M; o++) {
      const d = design(o);
      expectClose(d.pick(linear.kernel, linear.bias), d.solve(Array.from({ length: P }, (_, p) => z[p * M + o])));
    }
  });

  it("relu: equals the alternation of free targets on Ω^c with the normal equations, computed here (1e-8 relative)", () => {
    for (let o = 0; o < M; o++) {
      const d = design(o);
      const zo = Array.from({ length: P }, (_, p) => z[p * M + o]);
      const delta = d.delta();
      const objective = (w: number[]) => d.apply(w).reduce((f, v, p) => f + (zo[p] > 0 ? (v - zo[p]) ** 2 : Math.max(v, 0) ** 2), 0)
        + delta * w.reduce((f, v) => f + v * v, 0);
      let w = d.solve(zo);
      const own = d.pick(layer.kernel, layer.bias);
      if (objective(own) < objective(w)) w = own;
      for (let round = 1; round < REFIT_ROUNDS; round++) {
        const v = d.apply(w);
        w = d.solve(zo.map((zp, p) => (zp > 0 ? zp : Math.min(v[p], 0))));
      }
      expectClose(d.pick(relu.kernel, relu.bias), w);
    }
  });

  it("fits its target no worse than the un-refitted weights on the same support", () => {
    const pre = (k: ArrayLike<number>, b: ArrayLike<number>) => forward(x, k, b, P, N, M, false);
    const residual = (k: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(pre(k, b).reduce((s, v, i) => s + (v - z[i]) ** 2, 0));
    // relu's objective: the fit on Ω, and what leaks above zero on Ω^c.
    const hinge = (k: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(pre(k, b).reduce((s, v, i) => s + (z[i] > 0 ? (v - z[i]) ** 2 : Math.max(v, 0) ** 2), 0));
    expect(residual(linear.kernel, linear.bias)).toBeLessThan(residual(layer.kernel, layer.bias));
    expect(hinge(relu.kernel, relu.bias)).toBeLessThan(hinge(layer.kernel, layer.bias));
    expect(hinge(relu.kernel, relu.bias)).toBeLessThan(hinge(linear.kernel, linear.bias));
  });
});


describe("pruneNetwork({ refit: true })", () => {
  const sizes = [20, 40, 30, 6];
  const P = 300;
  const { network, input } = seededNetwork(5, sizes, P);
  const x = { data: input, rows: P, cols: sizes[0] };
  const signals = (n: DenseNetwork) => {
    const out: Float32Array[] = [];
    let s = input;
    n.layers.forEach((l, i) => { s = forward(s, l.kernel, l.bias, P, l.inputs, l.units, i < n.layers.length - 1); out.push(s); });
    return out;
  };
  const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

  for (const mode of ["parallel", "cascade"] as const) {
    it(`${mode}: same support as without the refit, measured numbers of the returned network, guarantee flagged`, async () => {
      const plain = await pruneNetwork(network, x, { mode, epsilonGain: 0.1, workers: 0 });
      const refitted = await pruneNetwork(network, x, { mode, epsilonGain: 0.1, workers: 0, refit: true });
      expect(plain.refit).toBeUndefined();
      expect(plain.guarantee.appliesToReturnedWeights).toBe(true);
      refitted.network.layers.forEach((l, i) => {
        const before = plain.network.layers[i];
        l.kernel.forEach((v, k) => expect(v !== 0).toBe(before.kernel[k] !== 0));
        l.bias.forEach((v, k) => expect(v !== 0).toBe(before.bias[k] !== 0));
        expect(refitted.layers[i].nnzAfter).toBe(plain.layers[i].nnzAfter);
      });
      expect(refitted.network.layers[0].kernel).not.toEqual(plain.network.layers[0].kernel);
      // The guarantee is that of the weights before the refit, and says so.
      expect(refitted.guarantee).toEqual({ ...plain.guarantee, appliesToReturnedWeights: false });
      // End-to-end and per-layer numbers, recomputed here from the returned weights.
      const orig = signals(network), before = signals(plain.network), after = signals(refitted.network);
      const logitsNorm = Math.sqrt(orig[2].reduce((s, v) => s + v * v, 0));
      expect(refitted.refit!.measuredError).toBeCloseTo(dist(after[2], orig[2]), 4);
      expect(refitted.refit!.relativeError).toBeCloseTo(dist(after[2], orig[2]) / logitsNorm, 6);
      refitted.refit!.perLayer.forEach((e, i) => expect(e).toBeCloseTo(dist(after[i], orig[i]), 4));
      refitted.layers.forEach((r, i) => {
        const l = refitted.network.layers[i], p = plain.network.layers[i];
        const xin = i === 0 ? input : after[i - 1];
        const norm = Math.sqrt(orig[i].reduce((s, v) => s + v * v, 0));
        expect(r.refit!.relativeError).toBeCloseTo(dist(forward(xin, l.kernel, l.bias, P, l.inputs, l.units, i < 2), orig[i]) / norm, 5);
        expect(r.refit!.unrefittedRelativeError).toBeCloseTo(dist(forward(xin, p.kernel, p.bias, P, p.inputs, p.units, i < 2), orig[i]) / norm, 5);
      });
      // On the calibration data the refitted logits are closer to the original ones.
      expect(dist(after[2], orig[2])).toBeLessThan(dist(before[2], orig[2]));
    });
  }

  it("refuses a refit that is not a boolean, by name", async () => {
    await expect(pruneNetwork(network, x, { refit: "yes" as unknown as boolean })).rejects.toThrow(ValidationError);
    await expect(pruneNetwork(network, x, { refit: 1 as unknown as boolean })).rejects.toThrow(/options\.refit: expected true or false, received 1/);
  });
});
