// The network drivers: parallel = sequential bit for bit, cascade feasibility, the Theorem 1/2
// bounds on seeded nets, the density target, cancellation.
import { describe, expect, it } from "vitest";
import { pruneNetwork } from "../bindings/network/prune-network.ts";
import type { DenseNetwork } from "../bindings/network/network.ts";
import { biasUnit, forward, networkSignals, seededNetwork, spectralNorm } from "./helpers/problems.ts";



const sizes = [20, 40, 30, 6];
const P = 300;

const signals = (network: DenseNetwork, input: Float32Array) => networkSignals(network, input, P);

const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

describe("parallel mode", () => {
  it("on a pool of workers equals one layer after another, bit for bit", async () => {
    const { network, input } = seededNetwork(1, sizes, P);
    const x = { data: input, rows: P, cols: sizes[0] };
    const seq = await pruneNetwork(network, x, { mode: "parallel", epsilonGain: 0.05, workers: 0 });
    const par = await pruneNetwork(network, x, { mode: "parallel", epsilonGain: 0.05, workers: 2 });
    expect(seq.status).toBe("solved");
    expect(par.status).toBe("solved");
    par.network.layers.forEach((l, i) => {
      expect(l.kernel).toEqual(seq.network.layers[i].kernel);
      expect(l.bias).toEqual(seq.network.layers[i].bias);
    });
    expect(par.layers.map((r) => r.iterations)).toEqual(seq.layers.map((r) => r.iterations));
  });

  it("meets each layer's budget on the original signals and the Theorem 1 bound holds", async () => {
    const { network, input } = seededNetwork(2, sizes, P);
    const r = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { mode: "parallel", epsilonGain: [0.03, 0.05, 0.02], workers: 0 });
    const orig = signals(network, input);
    r.network.layers.forEach((l, i) => {
      const xin = i === 0 ? input : orig[i - 1];
      const out = forward(xin, l.kernel, l.bias, P, l.inputs, l.units, i < 2);
      const gain = [0.03, 0.05, 0.02][i];
      const norm = Math.sqrt(orig[i].reduce((s, v) => s + v * v, 0));
      expect(dist(out, orig[i])).toBeLessThanOrEqual(gain * norm * (1 + 2e-3));
      // The original weights are feasible (zero error), so the minimiser's objective ‖W‖₁ + ‖b‖₁/u is no larger.
      const u = biasUnit(xin, P, l.inputs);
      const l1 = (k: Float32Array, b: Float32Array) => k.reduce((a, v) => a + Math.abs(v), 0) + b.reduce((a, v) => a + Math.abs(v), 0) / u;
      expect(l1(l.kernel, l.bias)).toBeLessThanOrEqual(l1(network.layers[i].kernel, network.layers[i].bias) * 1.001);
    });
    const pruned = signals(r.network, input);
    const measured = dist(pruned[2], orig[2]);
    expect(r.guarantee.theorem).toBe("Theorem 1 (parallel)");
    expect(r.guarantee.normsProved).toBe(true);
    expect(r.guarantee.measuredError).toBeCloseTo(measured, 3);
    // Theorem 1's chain, computed here: e_ℓ ≤ d_ℓ + ‖Ŵ_ℓ‖₂·e_{ℓ−1}, d_ℓ each layer's error on the
    // original signals (measured above from the returned weights).
    let bound = 0;
    r.network.layers.forEach((l, i) => {
      const d = dist(forward(i === 0 ? input : orig[i - 1], l.kernel, l.bias, P, l.inputs, l.units, i < 2), orig[i]);
      bound = d + spectralNorm(l.kernel, l.inputs, l.units) * bound;
    });
    expect(r.guarantee.bound).toBeCloseTo(bound, 2);
    expect(measured).toBeLessThanOrEqual(bound);
    expect(r.guarantee.holds).toBe(true);
  });
});

describe("cascade mode", () => {
  it("keeps the original weights feasible for every layer and the Theorem 2 bound holds", async () => {
    const { network, input } = seededNetwork(3, sizes, P);
    const gamma = 1.1;
    const r = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { mode: "cascade", epsilonGain: 0.03, gamma });
    expect(r.status).toBe("solved");
    const orig = signals(network, input);
    // Rebuild X̂ from the returned pruned layers and check the original layer is feasible there.
    let xHat = input;
    r.network.layers.forEach((pl, i) => {
      const l = network.layers[i];
      const relu = i < 2;
      if (i > 0) {
        const v = forward(xHat, l.kernel, l.bias, P, l.inputs, l.units, false); // W̄ᵀX̂
        let fit = 0;
        for (let k = 0; k < v.length; k++) if (!relu || orig[i][k] > 0) fit += (v[k] - orig[i][k]) ** 2;
        // The original weights satisfy ‖(W̄ᵀX̂ − Y)_Ω‖ ≤ ε_ℓ (and W̄ᵀX̂ ≤ V with V = W̄ᵀX̂ on Ω^c).
        expect(Math.sqrt(fit)).toBeLessThanOrEqual(r.layers[i].epsilon * (1 + 1e-6) + 1e-9);
        expect(r.layers[i].epsilon).toBeCloseTo(Math.sqrt(gamma * fit), 3);
      }
      xHat = forward(xHat, pl.kernel, pl.bias, P, pl.inputs, pl.units, relu);
    });
    expect(r.guarantee.theorem).toBe("Theorem 2 (cascade)");
    expect(r.guarantee.measuredError).toBeCloseTo(dist(xHat, orig[2]), 3);
    expect(r.guarantee.holds).toBe(true);
  });
});

describe("density target", () => {
  it("keeps the requested fraction of each layer's parameters", async () => {
    const { network, input } = seededNetwork(4, sizes, P);
    const r = await pruneNetwork(network, { data: input, rows: P, cols: sizes[0] }, { mode: "parallel", density: 0.3, densityTolerance: 0.1, workers: 0 });
    for (const layer of r.layers) {
      const kept = layer.nnzAfter / layer.parameters;
      expect(Math.abs(kept - 0.3)).toBeLessThanOrEqual(0.1 * 0.3 + 1 / layer.parameters);
    }
  });

  it("counts no bias on a layer without one (4 inputs → 30 units: 120 weights, not 150 parameters)", async () => {
    const { network, input } = seededNetwork(6, [4, 30, 6], P);
    const noBias = { ...network, layers: network.layers.map((l, i) => (i === 0 ? { ...l, useBias: false, bias: new Float32Array(l.units) } : l)) };
    const r = await pruneNetwork(noBias, { data: input, rows: P, cols: 4 }, { mode: "parallel", density: 0.3, densityTolerance: 0.05, workers: 0 });
    const first = r.network.layers[0];
    let nnz = 0;
    for (const w of first.kernel) if (w !== 0) nnz++;
    expect(first.bias.every((b) => b === 0)).toBe(true);
    // Counted here from the returned kernel: within the tolerance of 30% of its 120 weights.
    expect(Math.abs(nnz / 120 - 0.3)).toBeLessThanOrEqual(0.05 * 0.3 + 1 / 120);
  });
});

/** Prunes a seeded net with budgets too tight to finish and aborts once a layer passes iteration 20. */
async function abortedRun(seed: number, workers: number) {
  const { network, input } = seededNetwork(seed, [40, 80, 60, 6], 600);
  const ctrl = new AbortController();
  const result = await pruneNetwork(network, { data: input, rows: 600, cols: 40 }, {
    mode: "parallel", workers, epsilonGain: 0.01, signal: ctrl.signal,
    // Plain l1: tolerances this tight are never met, and reweighting rounds would each run to maxIter.
    layerOptions: { relTol: 1e-9, dualRelTol: 1e-9, maxIter: 100000, reweight: { rounds: 0 } },
    onProgress: (p) => { if (p.phase === "solving" && (p.iteration ?? 0) >= 20) ctrl.abort(); },
  });
  return { network, result };
}

describe("cancellation", () => {
  it("on the worker pool: an abort mid-run stops every layer with status aborted and returns the original network", async () => {
    const { network, result: r } = await abortedRun(5, 2);
    expect(r.status).toBe("aborted");
    for (const layer of r.layers) expect(layer.status).toBe("aborted");
    // The same as in this thread (below): the pool once returned the half-pruned weights.
    expect(r.network.layers.map((l) => l.kernel)).toEqual(network.layers.map((l) => l.kernel));
    expect(r.network.layers.map((l) => l.bias)).toEqual(network.layers.map((l) => l.bias));
  });
  it("in cascade mode: the original network as well", async () => {
    const { network, input } = seededNetwork(8, [40, 80, 60, 6], 600);
    const ctrl = new AbortController();
    const r = await pruneNetwork(network, { data: input, rows: 600, cols: 40 }, {
      mode: "cascade", epsilonGain: 0.01, signal: ctrl.signal, layerOptions: { relTol: 1e-9, dualRelTol: 1e-9, maxIter: 100000, reweight: { rounds: 0 } },
      onProgress: (p) => { if (p.layer === 1 && p.phase === "solving" && (p.iteration ?? 0) >= 20) ctrl.abort(); },
    });
    expect(r.status).toBe("aborted");
    expect(r.layers.map((l) => l.status)).toEqual([r.layers[0].status, "aborted"]);
    expect(r.network.layers.map((l) => l.kernel)).toEqual(network.layers.map((l) => l.kernel));
  });
  it("in this thread: stops at the running layer and returns the original network, nothing half-pruned", async () => {
    const { network, result: r } = await abortedRun(7, 0);
    expect(r.status).toBe("aborted");
    expect(r.layers.length).toBe(1);
    expect(r.network.layers.map((l) => l.kernel)).toEqual(network.layers.map((l) => l.kernel));
  });
});

describe("bad input", () => {
  it("names the field", async () => {
    const { network, input } = seededNetwork(6, sizes, 50);
    const x = { data: input, rows: 50, cols: sizes[0] };
    await expect(pruneNetwork(network, { data: input.subarray(0, 50 * 19), rows: 50, cols: 19 })).rejects.toThrow(/19 features per sample but the network's first layer takes 20/);
    await expect(pruneNetwork(network, x, { mode: "serial" as never })).rejects.toThrow(/options.mode/);
    await expect(pruneNetwork(network, x, { epsilonGain: [0.1, 0.2] })).rejects.toThrow(/one value per layer \(3\)/);
    await expect(pruneNetwork(network, x, { gamma: 0.9 })).rejects.toThrow(/options.gamma/);
    await expect(pruneNetwork(network, x, { density: 1.5 })).rejects.toThrow(/options.density: expected a fraction in \(0, 1\]/);
    await expect(pruneNetwork(network, x, { density: [0.5, 0.5, 0] })).rejects.toThrow(/options.density\[2\]/);
    await expect(pruneNetwork(network, x, { layerOptions: { epsilon: 1 } as never })).rejects.toThrow(/options.layerOptions.epsilon/);
  });
});

describe("memory", () => {
  // 300,000 samples: layer 0's 16,000 outputs alone take 19 GB, so neither weight update fits.
  // (With 10 samples, as before the CG update, layer 1's CG update fits: wUpdate "auto".)
  it("refuses a network whose layer cannot fit in WebAssembly memory, before any work", async () => {
    const wide = 16000;
    const network: DenseNetwork = {
      inputSize: 4,
      layers: [
        { name: "wide", activation: "relu", kernel: new Float32Array(4 * wide), bias: new Float32Array(wide), useBias: true, inputs: 4, units: wide },
        { name: "out", activation: "linear", kernel: new Float32Array(wide * 2), bias: new Float32Array(2), useBias: true, inputs: wide, units: 2 },
      ],
    };
    await expect(pruneNetwork(network, { data: new Float32Array(4 * 300_000), rows: 300_000, cols: 4 }, { workers: 0 }))
      .rejects.toThrow(/layer 0 \("wide", 4 inputs → 16000 outputs\) with 300000 calibration samples \(W-update: cg\) needs .* GiB .* limit is 4.00 GiB/);
  });
});
