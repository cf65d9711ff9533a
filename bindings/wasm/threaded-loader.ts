// The threaded build (net-trim-simd-threads.wasm): whether this runtime can run it, the module
// (compiled once), and instances on a shared memory (one per thread, all on the same memory).
import { WasmUnavailableError } from "../errors.ts";
import { compileFromUrl, simdSupported, type Backend } from "./loader.ts";
import type { ThreadedKernelExports } from "./kernel-exports.ts";

/** A Backend of the threaded build. */
interface ThreadedBackend extends Backend {
  readonly exports: ThreadedKernelExports;
}

/**
 * Why the threaded build cannot run here, or undefined when it can: it needs SharedArrayBuffer
 * (browsers give it only to cross-origin isolated pages), shared WebAssembly memory and SIMD.
 */
export function threadsUnavailable(): string | undefined {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  const headers = "serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp";
  if (isolated === false) return `the page is not cross-origin isolated, so it has no SharedArrayBuffer (${headers})`;
  if (typeof SharedArrayBuffer === "undefined") return "this runtime has no SharedArrayBuffer";
  if (!simdSupported()) return "the threaded build needs WebAssembly SIMD, which this runtime lacks";
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return `this runtime cannot make shared WebAssembly memory (${(e as Error).message})`;
  }
  return undefined;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not: it then only spins). */
export function mayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let threadedModule: Promise<WebAssembly.Module> | undefined;

/** The threaded build, compiled once (from next to the package's JS, as bundlers emit it). */
export function compileThreadedModule(): Promise<WebAssembly.Module> {
  if (!threadedModule) {
    let url: URL;
    try {
      url = new URL("../../build/net-trim-simd-threads.wasm", import.meta.url);
    } catch (e) {
      return Promise.reject(new WasmUnavailableError(`cannot locate net-trim-simd-threads.wasm: ${(e as Error).message}`));
    }
    const compiling = compileFromUrl(url);
    threadedModule = compiling;
    compiling.catch(() => {
      if (threadedModule === compiling) threadedModule = undefined;
    });
  }
  return threadedModule;
}

/** A fresh shared memory for one threaded solve (it grows to the solve's plan). */
export function sharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
}

/** An instance of the threaded build on `memory`. */
export async function instantiateShared(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadedBackend> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {
      env: {
        memory,
        abort: () => {
          throw new WasmUnavailableError("the net-trim module aborted");
        },
      },
    });
  } catch (e) {
    throw new WasmUnavailableError(`could not instantiate the threaded net-trim module: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as ThreadedKernelExports;
  if (typeof exports.admmRunThread !== "function") {
    throw new WasmUnavailableError("the module given is not net-trim's threaded build (no admmRunThread export)");
  }
  return { exports, memory, simd: true };
}
