// The sparse × dense product spmmPacked copies a tall B into panels of 512 rows and keeps each
// sum of C in C between panels. Its bits must be those of one f32 sum per entry in ascending k
// (what the single whole-k panel of session 5 gave): checked here against that sum written out
// in JavaScript with Math.fround, at k across the panel edges, on the SIMD and scalar builds.
import { beforeAll, describe, expect, it } from "vitest";
import { compileModule, instantiate, type Backend } from "../bindings/index.ts";
import { rng } from "./helpers/problems.ts";
import { instantiateReference, type ReferenceBackend } from "./helpers/reference-wasm.ts";

const K_BLOCK = 512; // assembly/sparse.ts SPMM_K_BLOCK: B is cut when k > 2·K_BLOCK
const ROWS = 23;
const N = 24 * 2 + 4 + 3; // two packed 24-column panels, a 4-column group, 3 single columns

interface Case {
  k: number;
  /** CSR of S (ROWS×k), some rows empty, columns ascending. */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  vals: Float32Array;
  b: Float32Array; // k×N
}

function randomCase(k: number, seed: number): Case {
  const u = rng(seed);
  const rowPtr = new Int32Array(ROWS + 1), cols: number[] = [], vals: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const density = i % 5 === 2 ? 0 : i % 5 === 4 ? 0.9 : 0.3; // empty, dense and sparse rows
    for (let p = 0; p < k; p++) {
      if (u() < density) {
        cols.push(p);
        vals.push(u() * 4 - 2);
      }
    }
    rowPtr[i + 1] = cols.length;
  }
  // Values of mixed magnitude, so that a different summation order changes the rounding.
  const b = Float32Array.from({ length: k * N }, () => (u() - 0.5) * 10 ** Math.floor(u() * 6 - 3));
  return { k, rowPtr, colIdx: Int32Array.from(cols), vals: Float32Array.from(vals), b };
}

/** C = S·B, each entry one f32 sum of f32 products in ascending k, from zero. */
function ascendingSum(c: Case): Float32Array {
  const out = new Float32Array(ROWS * N);
  for (let i = 0; i < ROWS; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let e = c.rowPtr[i]; e < c.rowPtr[i + 1]; e++) s = Math.fround(s + Math.fround(c.vals[e] * c.b[c.colIdx[e] * N + j]));
      out[i * N + j] = s;
    }
  }
  return out;
}

/** Runs spmmPacked (or, on the reference build, spmmPackedBlocked with kBlock) on `backend`; returns C. */
function product(backend: Backend, c: Case, kBlock?: number): Float32Array {
  const ex = (backend as ReferenceBackend).exports;
  const scratch = kBlock === undefined ? ex.spmmScratchBytes(Math.max(c.k, ROWS)) : Math.min(c.k, kBlock) * 96 + ROWS * 4;
  const at: Record<string, number> = {};
  let end = Math.ceil((ex.heapBase() >>> 0) / 64) * 64;
  for (const [name, size] of Object.entries({
    row: c.rowPtr.byteLength, col: c.colIdx.byteLength, val: c.vals.byteLength, b: c.b.byteLength, c: ROWS * N * 4, scratch,
  })) {
    at[name] = end;
    end += Math.ceil(Math.max(size, 1) / 64) * 64;
  }
  const need = end - backend.memory.buffer.byteLength;
  if (need > 0) backend.memory.grow(Math.ceil(need / 65536));
  const mem = backend.memory.buffer;
  new Int32Array(mem, at.row, ROWS + 1).set(c.rowPtr);
  new Int32Array(mem, at.col, c.colIdx.length).set(c.colIdx);
  new Float32Array(mem, at.val, c.vals.length).set(c.vals);
  new Float32Array(mem, at.b, c.b.length).set(c.b);
  new Float32Array(mem, at.c, ROWS * N).fill(NaN); // every entry must be written
  if (kBlock === undefined) ex.spmmPacked(ROWS, N, c.k, at.row, at.col, at.val, at.b, N, at.c, N, at.scratch);
  else ex.spmmPackedBlocked(ROWS, N, c.k, at.row, at.col, at.val, at.b, N, at.c, N, at.scratch, kBlock);
  return new Float32Array(mem, at.c, ROWS * N).slice();
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

describe("spmmPacked in panels of 512 rows of B", () => {
  let builds: [string, Backend][], reference: ReferenceBackend;
  beforeAll(async () => {
    builds = [["SIMD", await instantiate(await compileModule(true))], ["scalar", await instantiate(await compileModule(false))]];
    reference = await instantiateReference();
  });

  for (const k of [1, 2 * K_BLOCK - 1, 2 * K_BLOCK, 2 * K_BLOCK + 1, 3 * K_BLOCK + 5, 4 * K_BLOCK + 1]) {
    it(`k = ${k}: every entry is the ascending f32 sum, on both builds`, () => {
      const c = randomCase(k, k);
      const want = bits(ascendingSum(c));
      for (const [, backend] of builds) expect(bits(product(backend, c))).toEqual(want);
    });
  }

  it("any panel height gives the same bits: 1, 7, 64 and one whole-k panel (reference build)", () => {
    const c = randomCase(300, 9);
    const want = bits(ascendingSum(c));
    for (const kBlock of [1, 7, 64, 300, 1000]) expect(bits(product(reference, c, kBlock))).toEqual(want);
  });

  it("the entries are the product's values (f64 check, independent of the order)", () => {
    const c = randomCase(2 * K_BLOCK + 1, 3);
    const got = product(builds[0][1], c);
    let worst = 0;
    for (let i = 0; i < ROWS; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, scale = 0;
        for (let e = c.rowPtr[i]; e < c.rowPtr[i + 1]; e++) {
          const t = c.vals[e] * c.b[c.colIdx[e] * N + j];
          s += t;
          scale += Math.abs(t);
        }
        worst = Math.max(worst, Math.abs(got[i * N + j] - s) / Math.max(scale, 1e-30));
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
