// Loads the WebAssembly kernels: the SIMD build when the runtime validates SIMD, else the
// scalar build. Works in Node and browsers with no path configuration, and accepts an already
// compiled WebAssembly.Module (edge runtimes such as workerd refuse to compile at run time).
import { WasmUnavailableError } from "../errors.ts";
import type { KernelExports } from "./kernel-exports.ts";

export interface Backend {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Whether this instance runs the SIMD build. */
  readonly simd: boolean;
}

export interface InitOptions {
  /** A compiled net-trim module (from `net-trim/wasm/simd` or `net-trim/wasm/scalar`). */
  module?: WebAssembly.Module | Promise<WebAssembly.Module>;
  /** Without `module`: force the SIMD (true) or scalar (false) build; default "auto" (SIMD when it validates). */
  simd?: boolean | "auto";
}

/** The smallest module using a v128 instruction: `(func v128.const 0 drop)`. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x17, 0x01, 0x15, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x0b,
]);

export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const wasmUrl = (simd: boolean) =>
  new URL(simd ? "../../build/net-trim-simd.wasm" : "../../build/net-trim-scalar.wasm", import.meta.url);

async function compileFromUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === "file:") {
    const fs = await import("node:fs/promises");
    return WebAssembly.compile(await fs.readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new WasmUnavailableError(`fetching ${url.href} failed: HTTP ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Compiles the build this runtime supports (SIMD when it validates, unless `simd: false`). */
export async function compileModule(simd: boolean = simdSupported()): Promise<WebAssembly.Module> {
  if (typeof WebAssembly === "undefined") throw new WasmUnavailableError("WebAssembly is not available in this runtime");
  const url = wasmUrl(simd);
  try {
    return await compileFromUrl(url);
  } catch (e) {
    if (e instanceof WasmUnavailableError) throw e;
    throw new WasmUnavailableError(`could not compile ${url.href}: ${(e as Error).message}`);
  }
}

/** Instantiates a compiled module into a fresh Backend (its own memory). */
export async function instantiate(module: WebAssembly.Module): Promise<Backend> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {
      env: {
        abort: () => {
          throw new WasmUnavailableError("the net-trim module aborted");
        },
      },
    });
  } catch (e) {
    throw new WasmUnavailableError(`could not instantiate the net-trim module: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as KernelExports;
  if (typeof exports.admmIterate !== "function" || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new WasmUnavailableError("the module given is not a net-trim build (no admmIterate/memory export)");
  }
  return { exports, memory: exports.memory, simd: exports.simdBuild() !== 0 };
}

let defaultBackend: Promise<Backend> | undefined;

/**
 * Sets up the default backend. Optional: pruneLayer calls it on first use. Pass `module` where
 * the runtime cannot compile WebAssembly from bytes (Cloudflare workerd).
 */
export function init(options: InitOptions = {}): Promise<Backend> {
  defaultBackend = (async () => {
    if (options.module) return instantiate(await options.module);
    const useSimd = options.simd === undefined || options.simd === "auto" ? simdSupported() : options.simd;
    return instantiate(await compileModule(useSimd));
  })();
  defaultBackend.catch(() => {
    defaultBackend = undefined;
  });
  return defaultBackend;
}

export function getBackend(): Promise<Backend> {
  return defaultBackend ?? init();
}
