// The blocked f64 factorisation and inverse (assembly/cholesky.ts) and the lower-triangle Gram
// (gramLowerPacked) on the shipped builds: the same bits with and without SIMD, and the same
// matrices as the row-wise kernels they replaced, up to rounding.
import { beforeAll, describe, expect, it } from "vitest";
import { compileModule, instantiate, type Backend } from "../bindings/index.ts";
import { rng } from "./helpers/problems.ts";
import { instantiateReference, type ReferenceBackend } from "./helpers/reference-wasm.ts";

const N = 300; // several blocks of 64 and a remainder

/** A random SPD matrix n×n: Gram of a random 2n×n matrix plus the identity, computed here in f64. */
function randomSpd(n: number, seed: number): Float64Array {
  const u = rng(seed);
  const m = Float64Array.from({ length: 2 * n * n }, () => u() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < 2 * n; p++) s += m[p * n + i] * m[p * n + j];
      a[i * n + j] = s + (i === j ? 1 : 0);
      a[j * n + i] = a[i * n + j];
    }
  }
  return a;
}

/** Factor and invert `a` on a backend with the given kernels (row-wise: the reference build's); returns L and (L Lᵀ)⁻¹. */
function factorAndInvert(backend: Backend, a: Float64Array, rowwise = false): { l: Float64Array; inv: Float64Array } {
  const n = Math.sqrt(a.length);
  const ex = (backend as ReferenceBackend).exports;
  const base = Math.ceil((ex.heapBase() >>> 0) / 64) * 64;
  const bytes = n * n * 8;
  const need = base + 2 * bytes - backend.memory.buffer.byteLength;
  if (need > 0) backend.memory.grow(Math.ceil(need / 65536));
  new Float64Array(backend.memory.buffer, base, n * n).set(a);
  expect(rowwise ? ex.cholesky64Rowwise(n, base) : ex.cholesky64(n, base)).toBe(0);
  const l = new Float64Array(backend.memory.buffer, base, n * n).slice();
  if (rowwise) ex.invertFromCholesky64Rowwise(n, base, base + bytes);
  else ex.invertFromCholesky64(n, base, base + bytes);
  return { l, inv: new Float64Array(backend.memory.buffer, base + bytes, n * n).slice() };
}

const bits = (x: Float64Array | Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
/** How many bytes differ (a deep toEqual on a megabyte is slow). */
function differingBytes(x: Float64Array, y: Float64Array): number {
  const a = bits(x), b = bits(y);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}

describe("blocked Cholesky and inverse", () => {
  let simd: Backend, scalar: Backend, reference: ReferenceBackend;
  const a = randomSpd(N, 11);
  beforeAll(async () => {
    simd = await instantiate(await compileModule(true));
    scalar = await instantiate(await compileModule(false));
    reference = await instantiateReference();
  });

  it("the SIMD and scalar builds give the same bits", () => {
    const s = factorAndInvert(simd, a), c = factorAndInvert(scalar, a);
    expect(differingBytes(s.l, c.l)).toBe(0);
    expect(differingBytes(s.inv, c.inv)).toBe(0);
  });

  it("agrees with the row-wise kernels to rounding, and the inverse times A is I", () => {
    const blocked = factorAndInvert(simd, a), rowwise = factorAndInvert(reference, a, true);
    const maxAbs = (x: Float64Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = (x: Float64Array, y: Float64Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    expect(diff(blocked.l, rowwise.l)).toBeLessThan(1e-13 * maxAbs(rowwise.l));
    expect(diff(blocked.inv, rowwise.inv)).toBeLessThan(1e-12 * maxAbs(rowwise.inv));
    // Independent of both: ‖inv·A − I‖ from the matrix itself.
    let worst = 0;
    for (let i = 0; i < N; i += 7) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < N; k++) s += blocked.inv[i * N + k] * a[k * N + j];
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-11);
  });
});

describe("gramLowerPacked", () => {
  it("forms the lower triangle of X·Xᵀ with spmmPacked's bits, on both builds", async () => {
    for (const simd of [true, false]) {
      const backend = await instantiate(await compileModule(simd));
      const ex = backend.exports;
      const n = 77, k = 50; // 3 blocks of 24 and a remainder of 5
      const u = rng(5);
      const xt = Float32Array.from({ length: k * n }, () => (u() < 0.6 ? 0 : u() - 0.3)); // k×n
      const x = new Float32Array(n * k);
      for (let p = 0; p < k; p++) for (let i = 0; i < n; i++) x[i * k + p] = xt[p * n + i];
      const at: Record<string, number> = {};
      let end = Math.ceil((ex.heapBase() >>> 0) / 64) * 64;
      const nnz = x.filter((v) => v !== 0).length;
      for (const [name, size] of Object.entries({ x: n * k * 4, xt: k * n * 4, row: (n + 1) * 4, col: nnz * 4, val: nnz * 4,
        full: n * n * 4, lower: n * n * 4, scratch: ex.spmmScratchBytes(k) })) {
        at[name] = end;
        end += Math.ceil(size / 64) * 64;
      }
      backend.memory.grow(Math.ceil(end / 65536));
      new Float32Array(backend.memory.buffer, at.x, n * k).set(x);
      new Float32Array(backend.memory.buffer, at.xt, k * n).set(xt);
      new Float32Array(backend.memory.buffer, at.lower, n * n).fill(NaN);
      ex.csrFromDense(n, k, at.x, k, at.row, at.col, at.val);
      ex.spmmPacked(n, n, k, at.row, at.col, at.val, at.xt, n, at.full, n, at.scratch);
      ex.gramLowerPacked(n, k, at.row, at.col, at.val, at.xt, n, at.lower, n, at.scratch);
      const full = new Float32Array(backend.memory.buffer, at.full, n * n);
      const lower = new Float32Array(backend.memory.buffer, at.lower, n * n);
      const lowerOfFull = new Float32Array(n * (n + 1) / 2), lowerOfLower = new Float32Array(n * (n + 1) / 2);
      let q = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++, q++) {
        lowerOfFull[q] = full[i * n + j];
        lowerOfLower[q] = lower[i * n + j];
      }
      expect(bits(lowerOfLower)).toEqual(bits(lowerOfFull));
      // And the values themselves, from the data in f64.
      let worst = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += xt[p * n + i] * xt[p * n + j];
        worst = Math.max(worst, Math.abs(lower[i * n + j] - s));
      }
      expect(worst).toBeLessThan(1e-5);
    }
  });
});

describe("the reference kernels", () => {
  it("are in the reference build only, not in the shipped SIMD and scalar builds", async () => {
    const names = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name);
    const reference = ["cholesky64Rowwise", "invertFromCholesky64Rowwise", "spmmPackedBlocked"];
    for (const simd of [true, false]) {
      const shipped = names(await compileModule(simd));
      expect(shipped).toContain("cholesky64");
      for (const name of reference) expect(shipped).not.toContain(name);
    }
    const ex = (await instantiateReference()).exports;
    for (const name of reference) expect(typeof (ex as unknown as Record<string, unknown>)[name]).toBe("function");
  });
});
