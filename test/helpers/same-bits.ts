// Two solves of one layer returned the same bits: weights, bias, duals, and the statistics-driven
// path (status, iterations, residuals, ρ). For runs that must not depend on the thread count.
import { expect } from "vitest";
import type { LayerResult } from "../../bindings/index.ts";

export function expectSameBits(a: LayerResult, b: LayerResult): void {
  const bytes = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  expect(b.status).toBe(a.status);
  expect(b.info.iterations).toBe(a.info.iterations);
  expect(b.info.primalResidual).toBe(a.info.primalResidual);
  expect(b.info.dualResidual).toBe(a.info.dualResidual);
  expect(b.info.rho).toBe(a.info.rho);
  expect(bytes(b.weights)).toEqual(bytes(a.weights));
  expect(bytes(b.bias)).toEqual(bytes(a.bias));
  expect(bytes(b.dual.u1)).toEqual(bytes(a.dual.u1));
  expect(bytes(b.dual.u2)).toEqual(bytes(a.dual.u2));
}
