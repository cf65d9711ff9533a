// The network drivers' memory pre-check counts the first layer's zeros, as its solve does: a
// sparse layer whose every-input-nonzero estimate is over WebAssembly's 4 GiB but whose sparse
// plan fits is accepted; one over the limit is refused with the numbers. Arithmetic only: no
// memory is allocated for these sizes.
import { describe, expect, it } from "vitest";
import { OutOfMemoryError } from "../bindings/errors.ts";
import { checkLayerFits, denseLayerBytes, inputSparsity } from "../bindings/solver/memory-check.ts";

// LeNet FC1 at the paper's P = 55,000: 3136 inputs, 512 outputs.
const P = 55_000, N = 3136, M = 512, NB = N + 1;
const GiB = 2 ** 30;

/** The refusal `checkLayerFits` throws for the factored W-update, or undefined when the layer is accepted. */
function refusal(nonzeros?: number, samples = P): OutOfMemoryError | undefined {
  try {
    checkLayerFits("LeNet FC1", samples, N, M, false, "factored", nonzeros === undefined ? undefined : { nonzeros, sparse: true });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(OutOfMemoryError);
    return e as OutOfMemoryError;
  }
}

describe("checkLayerFits with the input's sparsity", () => {
  it("refuses LeNet FC1 at P = 55,000 when every input is assumed nonzero", () => {
    const e = refusal();
    expect(e).toBeDefined();
    expect(e!.limitBytes).toBe(4 * GiB);
    // At least Xt (P·N̄ f32) and two CSR copies as big as dense (P·N̄ entries of 8 bytes each).
    expect(e!.requiredBytes).toBeGreaterThan(P * NB * 4 + 2 * P * NB * 8);
  });

  it("accepts it with 60% zeros (ReLU-like inputs), the plan the solve lays out", () => {
    expect(refusal(Math.round(0.4 * P * N))).toBeUndefined();
  });

  it("with \"auto\", keeps the factored W-update there instead of falling back to CG", () => {
    expect(denseLayerBytes(P, N, M, false, "auto").chosen).toBe("cg");
    const counted = denseLayerBytes(P, N, M, false, "auto", { nonzeros: Math.round(0.4 * P * N), sparse: true });
    expect(counted.chosen).toBe("factored");
    expect(counted.bytes).toBeLessThan(4 * GiB);
  });

  it("refuses it at P = 90,000 with 60% zeros, with the bytes needed and the limit in the error", () => {
    const samples = 90_000;
    const e = refusal(Math.round(0.4 * samples * N), samples);
    expect(e).toBeDefined();
    expect(e!.requiredBytes).toBeGreaterThan(4 * GiB);
    // At least Xt (P·N̄ f32) and the two CSR copies (8 bytes per nonzero of the design, bias included).
    expect(e!.requiredBytes).toBeGreaterThan(samples * NB * 4 + 2 * 8 * (0.4 * samples * N + samples));
    expect(e!.message).toContain(`(${e!.requiredBytes} bytes)`);
    expect(e!.message).toContain(`(${4 * GiB} bytes)`);
    expect(e!.message).toContain("LeNet FC1");
  });

  it("inputSparsity counts the zeros and takes the sparse products from half the design [X, 1] zero", () => {
    // P = 3, N = 4: the design has 3 × 5 = 15 entries, the bias column nonzero.
    const data = new Float32Array(12);
    data.set([1, 2, 3, 4, 5, 6]); // 6 zeros: 6 / 15 < 0.5
    expect(inputSparsity(data, 3, 4)).toEqual({ nonzeros: 6, sparse: false });
    data.set([0, 0], 4); // 8 zeros: 8 / 15 ≥ 0.5
    expect(inputSparsity(data, 3, 4)).toEqual({ nonzeros: 4, sparse: true });
    expect(inputSparsity(data, 3, 4, false)).toEqual({ nonzeros: 4, sparse: false });
  });
});
