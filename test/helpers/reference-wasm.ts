// The reference build (assembly/index-reference.ts → build/net-trim-reference.wasm, SIMD): the
// solver's kernels and the ones tests and benchmarks compare them with. Built by `npm run
// asbuild`, never shipped.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { instantiate, type Backend } from "../../bindings/index.ts";
import type { KernelExports } from "../../bindings/wasm/kernel-exports.ts";

export interface ReferenceExports extends KernelExports {
  cholesky64Rowwise(n: number, a: number): number;
  invertFromCholesky64Rowwise(n: number, l: number, out: number): void;
  spmmPackedBlocked(rows: number, n: number, k: number, rowPtr: number, colIdx: number, vals: number,
    b: number, ldb: number, c: number, ldc: number, scratch: number, kBlock: number): void;
}

export interface ReferenceBackend extends Backend {
  readonly exports: ReferenceExports;
}

const WASM = join(import.meta.dirname, "..", "..", "build", "net-trim-reference.wasm");

/** A fresh instance of the reference build, with its own memory. */
export async function instantiateReference(): Promise<ReferenceBackend> {
  return (await instantiate(new WebAssembly.Module(readFileSync(WASM)))) as ReferenceBackend;
}
