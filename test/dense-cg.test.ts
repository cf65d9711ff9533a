// The CG weight update of Dense layers (issue 8, big layers): wUpdate "cg" solves C̃·W3⁺ = D by
// conjugate gradient on the products each iteration instead of factoring C̃ once. Checked from
// the RETURNED weights (output error within the budget) and against a different algorithm (PDHG
// in float64, test/helpers/pdhg.ts) for ‖W‖₁; "auto" takes CG only where no square form fits.
import { describe, expect, it } from "vitest";
import { matrix, OutOfMemoryError, pruneLayer, ValidationError } from "../bindings/index.ts";
import { checkLayerFits } from "../bindings/solver/memory-check.ts";
import { frobenius, measure, randomLayer } from "./helpers/problems.ts";
import { pdhg } from "./helpers/pdhg.ts";
import { expectNearReluOracle, reluOracle } from "./helpers/oracle-checks.ts";


describe("Dense layers with the CG weight update", () => {
  for (const sparseInput of [true, false]) {
    it(`relu layer, ${sparseInput ? "CSR" : "dense"} products: within budget and within 1% of the PDHG optimum`, async () => {
      const p = randomLayer(21, 250, 30, 8, { zeroInputs: 0.5 });
      const epsilon = 0.05 * frobenius(p.output);
      const oracle = reluOracle(p, epsilon, 1500);
      const r = await pruneLayer(matrix(p.input, p.P, p.N), matrix(p.output, p.P, p.M), { epsilon, wUpdate: "cg", sparseInput });
      expect(r.info.wUpdate).toBe("cg");
      expect(r.info.sparseInput).toBe(sparseInput);
      expectNearReluOracle(p, r, epsilon, oracle);
    }, 120_000);
  }

  it("linear layer: the fit within the budget and ‖W‖₁ within 1% of the PDHG optimum", async () => {
    const p = randomLayer(11, 300, 25, 6, { linear: true, zeroInputs: 0.3 });
    const epsilon = 0.05 * frobenius(p.output);
    const oracle = pdhg({ ...p, epsilon, linear: true }, 1500);
    const r = await pruneLayer(matrix(p.input, p.P, p.N), matrix(p.output, p.P, p.M), { kind: "linear", epsilon, wUpdate: "cg" });
    expect(r.status).toBe("solved");
    // A linear layer with P ≥ 2(N + 1) would take the reduced form: CG keeps the samples form.
    expect(r.info.linearForm).toBe("samples");
    expect(r.info.wUpdate).toBe("cg");
    const m = measure(p, r.weights, r.bias, { linear: true });
    expect(m.fit).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
    expect(Math.abs(m.l1 / oracle.objective - 1)).toBeLessThan(0.01);
  }, 120_000);

  it("asked for 2 threads, the CG update runs on one and says why, with the one-thread bits", async () => {
    const p = randomLayer(8, 150, 12, 3, { zeroInputs: 0.5 });
    const args = [matrix(p.input, p.P, p.N), matrix(p.output, p.P, p.M)] as const;
    const two = await pruneLayer(...args, { epsilonGain: 0.1, wUpdate: "cg", threads: 2 });
    const one = await pruneLayer(...args, { epsilonGain: 0.1, wUpdate: "cg" });
    expect(two.info.threads).toBe(1);
    expect(two.info.threadsReason).toBe("the CG W-update runs on one thread (only the factored W-update is split over threads)");
    expect(Array.from(two.weights)).toEqual(Array.from(one.weights));
  }, 60_000);

  it("the default is the factored update where it fits and P ≥ N + 1, and says so", async () => {
    const p = randomLayer(5, 120, 10, 3);
    const r = await pruneLayer(matrix(p.input, p.P, p.N), matrix(p.output, p.P, p.M), { epsilonGain: 0.1 });
    expect(r.info.wUpdate).toBe("factored");
  });

  // 14,000 inputs: C̃ and its factors need 14001² × 24 B ≈ 4.4 GiB, over WebAssembly's 4 GiB.
  const wide = randomLayer(3, 20, 14_000, 2, { zeroInputs: 0.5 });
  const wideArgs = () => [matrix(wide.input, wide.P, wide.N), matrix(wide.output, wide.P, wide.M)] as const;

  // Where P ≪ N̄ (here 20 samples) CG converges slowly in float32 and ‖W‖₁ ends far above the
  // optimum (README, "The CG weight update"): this test checks the budget, the PDHG tests above
  // the optimum where P ≥ N̄.
  it("CG on a layer whose factor cannot fit in 4 GiB: within budget on the returned weights", async () => {
    const epsilon = 0.05 * frobenius(wide.output);
    // "auto" takes the Woodbury form here (20 samples < 14,001 rows: woodbury.test.ts).
    const r = await pruneLayer(...wideArgs(), { epsilon, wUpdate: "cg" });
    expect(r.info.wUpdate).toBe("cg");
    expect(r.status).toBe("solved");
    expect(measure(wide, r.weights, r.bias).outputError).toBeLessThanOrEqual(epsilon * (1 + 1e-3));
  }, 60_000);

  it("factored, asked for where it cannot fit: refused before allocating, with the numbers", async () => {
    const error = await pruneLayer(...wideArgs(), { epsilonGain: 0.05, wUpdate: "factored" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutOfMemoryError);
    const e = error as OutOfMemoryError;
    expect(e.requiredBytes).toBeGreaterThan(14001 * 14001 * 24);
    expect(e.limitBytes).toBe(2 ** 32);
    expect(e.message).toContain("14000 inputs");
  });

  it("the network pre-check accepts a layer that fits only with CG, and refuses one that fits neither way", () => {
    expect(() => checkLayerFits("wide", 100, 14_000, 10, false)).not.toThrow();
    expect(() => checkLayerFits("wide", 100, 14_000, 10, false, "factored")).toThrow(OutOfMemoryError);
    // 200,000 samples × 5,000 inputs: the input alone is 4 GB.
    const e = (() => { try { checkLayerFits("huge", 200_000, 5_000, 10, false); } catch (x) { return x; } })() as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toContain("huge (W-update: cg)");
    expect(e.requiredBytes).toBeGreaterThan(200_000 * 5_000 * 4);
  });

  it("bad values are refused by name", async () => {
    const p = randomLayer(5, 40, 6, 2, { linear: true });
    const run = (o: object) => pruneLayer(matrix(p.input, p.P, p.N), matrix(p.output, p.P, p.M), o).catch((e: unknown) => e);
    const bad = (await run({ wUpdate: "cholesky" })) as ValidationError;
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.field).toBe("options.wUpdate");
    const mixed = (await run({ kind: "linear", wUpdate: "cg", linearForm: "reduced" })) as ValidationError;
    expect(mixed).toBeInstanceOf(ValidationError);
    expect(mixed.field).toBe("options.wUpdate");
  });
});
