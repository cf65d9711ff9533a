// Runs in real headless Chromium: the loader must find the SIMD build with no configuration,
// and a small layer must solve with honest numbers.
import { describe, expect, it } from "vitest";
import { matrix, pruneLayer, simdSupported } from "../../bindings/index.ts";

function seededProblem(P: number, N: number, M: number) {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const input = new Float32Array(P * N).map(() => rnd());
  const w = new Float32Array(N * M).map(() => (Math.abs(rnd()) < 0.3 ? rnd() : 0));
  const output = new Float32Array(P * M);
  for (let p = 0; p < P; p++)
    for (let m = 0; m < M; m++) {
      let z = 0.1;
      for (let n = 0; n < N; n++) z += input[p * N + n] * w[n * M + m];
      output[p * M + m] = Math.max(z, 0);
    }
  return { input, output };
}

describe("in Chromium", () => {
  it("validates SIMD and solves a layer with the SIMD build", async () => {
    expect(typeof navigator).toBe("object");
    expect(simdSupported()).toBe(true);
    const P = 120, N = 20, M = 6;
    const { input, output } = seededProblem(P, N, M);
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
