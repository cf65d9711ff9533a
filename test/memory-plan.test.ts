// What a Dense solve holds in WebAssembly memory (bindings/wasm/memory-plan.ts): the input shares
// its bytes with what is built from it, and sparse products hold no dense X. The totals are
// counted here buffer by buffer from the shapes, not taken from the plan.
import { describe, expect, it } from "vitest";
import { bufferSizes, inputOverlay, layout } from "../bindings/wasm/memory-plan.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";

const MiB = 2 ** 20;
const SCRATCH = { gemm: 2 * MiB, spmm: 55_000 * 96, sums: 4 * MiB };

function planEnd(problem: LayerProblem): number {
  const sizes = bufferSizes(problem, SCRATCH.gemm, SCRATCH.spmm, SCRATCH.sums);
  return layout(0, sizes, inputOverlay(problem)).end;
}

describe("the memory plan of the LeNet FC1 layer at P = 55,000", () => {
  const P = 55_000, N = 3136, M = 512, NB = N + 1;
  const nnz = Math.round(0.4 * P * N) + P; // ReLU inputs, 60% zeros, plus the bias column
  const base = { P, N, M, upperBound: undefined, designNonzeros: nnz, form: "samples" };
  // Buffers every Dense solve holds, by shape: 6 P×M f32 (targets, duals, products) and the mask,
  // Gram f32, factor and inverse f64, C̃⁻¹ f32, 6 (N+1)×M f32 weight buffers, and the scratch.
  const common = 6 * P * M * 4 + P * M + NB * NB * (4 + 8 + 8 + 4) + 6 * NB * M * 4 + SCRATCH.gemm + SCRATCH.sums;

  it("sparse products: Xt and the two CSR copies, the input inside them, no dense X (fits in 4 GiB)", () => {
    const problem = { ...base, sparse: true } as unknown as LayerProblem;
    const held = common + P * NB * 4 + (P + 1) * 4 + (NB + 1) * 4 + 2 * 8 * nnz + SCRATCH.spmm;
    const end = planEnd(problem);
    expect(end).toBeGreaterThanOrEqual(held);
    expect(end).toBeLessThan(held + MiB); // alignment only
    expect(end).toBeLessThan(2.75 * 2 ** 30);
  });

  it("dense products: Xt and X, the input inside X", () => {
    const problem = { ...base, sparse: false } as unknown as LayerProblem;
    const held = common + 2 * P * NB * 4;
    const end = planEnd(problem);
    expect(end).toBeGreaterThanOrEqual(held);
    expect(end).toBeLessThan(held + MiB);
  });

  it("an input bigger than the CSR copies (very sparse) still has bytes of its own", () => {
    const sparse = { ...base, sparse: true, designNonzeros: P } as unknown as LayerProblem;
    const sizes = bufferSizes(sparse, SCRATCH.gemm, SCRATCH.spmm, SCRATCH.sums);
    const plan = layout(0, sizes, inputOverlay(sparse));
    const o = plan.offsets;
    // Nothing laid out after the CSR group may start inside the input.
    const inputEnd = o.input + P * N * 4;
    expect(plan.end).toBeGreaterThanOrEqual(inputEnd);
    for (const [name, at] of Object.entries(o)) {
      if (inputOverlay(sparse).over.includes(name) || name === "input") continue;
      const size = sizes[name];
      if (size > 0) expect(at + size <= o.input || at >= inputEnd, name).toBe(true);
    }
  });
});
