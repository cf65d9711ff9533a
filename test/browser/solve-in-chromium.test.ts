// Runs in real headless Chromium: the loader must find the SIMD build with no configuration,
// and a small layer must solve with honest numbers.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer, simdSupported } from "../../bindings/index.ts";
import { randomLayer } from "../helpers/problems.ts";


describe("in Chromium", () => {
  it("validates SIMD and solves a layer with the SIMD build", async () => {
    expect(typeof navigator).toBe("object");
    expect(simdSupported()).toBe(true);
    const P = 120, N = 20, M = 6;
    const { input, output } = randomLayer(12345, P, N, M);
    const r = await pruneLayer(matrix(input, P, N), matrix(output, P, M), { epsilonGain: 0.05 });
    expect(r.info.simd).toBe(true);
    expect(["solved", "solved_inaccurate"]).toContain(r.status);
    // Recompute the fit from the returned weights.
    let fit = 0;
    for (let p = 0; p < P; p++)
      for (let m = 0; m < M; m++) {
        let z = r.bias[m];
        for (let n = 0; n < N; n++) z += input[p * N + n] * r.weights[n * M + m];
        const y = output[p * M + m];
        if (y > 0) fit += (z - y) ** 2;
      }
    expect(Math.sqrt(fit)).toBeLessThanOrEqual(r.info.epsilon * 1.01);
    expect(Math.abs(Math.sqrt(fit) - r.info.fitError)).toBeLessThan(1e-3 * r.info.epsilon + 1e-6);
  });
});
