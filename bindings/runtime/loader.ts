// Loads the runtime's own WebAssembly build (build/net-trim-runtime.wasm, SIMD only): kernels for
// inference, separate from the solver's builds. Same conventions as wasm/loader.ts: found next to
// the package's JS by a literal new URL(…, import.meta.url), or handed over as a compiled module.
import { ValidationError, WasmUnavailableError } from "../errors.ts";
import { compileFromUrl, isWasmModule, simdSupported } from "../wasm/loader.ts";

/** The runtime module's exports (assembly/runtime/index.ts). */
export interface RuntimeKernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  denseLayer(rows: number, n: number, m: number, x: number, w: number, bias: number, y: number): void;
  sparseLayer(rows: number, n: number, m: number, x: number, rowPtr: number, offsets: number, vals: number, bias: number, y: number): void;
  denseConv(
    rows: number, h: number, w: number, c: number, oh: number, ow: number, f: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    x: number, wt: number, bias: number, y: number,
  ): void;
  sparseConv(
    rows: number, h: number, w: number, c: number, oh: number, ow: number, f: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    x: number, rowPtr: number, offsets: number, vals: number, bias: number, tapStart: number, taps: number, y: number,
  ): void;
  sparseConvPlanar(
    rows: number, h: number, w: number, c: number, oh: number, ow: number, f: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, hp: number, wp: number,
    x: number, fStart: number, taps: number, vals: number, bias: number, scratch: number, y: number, act: number,
  ): void;
  activate(p: number, count: number, kind: number): void;
  pool2d(
    rows: number, h: number, w: number, c: number, oh: number, ow: number,
    ph: number, pw: number, sh: number, sw: number, padTop: number, padLeft: number, isMax: number, x: number, y: number,
  ): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function runtimeModule(): Promise<WebAssembly.Module> {
  if (!compiled) {
    if (typeof WebAssembly === "undefined" || !simdSupported()) {
      return Promise.reject(new WasmUnavailableError("the sparse runtime needs WebAssembly with SIMD, which this runtime does not validate"));
    }
    compiled = compileFromUrl(new URL("../../build/net-trim-runtime.wasm", import.meta.url));
    compiled.catch(() => { compiled = undefined; });
  }
  return compiled;
}

/** A fresh instance (its own memory) of `module`, or of the package's runtime build. */
export async function instantiateRuntime(module?: WebAssembly.Module): Promise<RuntimeKernels> {
  if (module !== undefined && !isWasmModule(module)) {
    throw new ValidationError("options.module", 'a WebAssembly.Module (the default import of net-trim/wasm/net-trim-runtime.wasm where .wasm imports compile)', module);
  }
  const m = module ?? (await runtimeModule());
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(m, { env: { abort: () => { throw new WasmUnavailableError("the net-trim runtime module aborted"); } } });
  } catch (e) {
    throw new WasmUnavailableError(`could not instantiate the net-trim runtime module: ${(e as Error).message}`);
  }
  const k = instance.exports as unknown as RuntimeKernels;
  if (typeof k.sparseLayer !== "function" || !(k.memory instanceof WebAssembly.Memory)) {
    throw new WasmUnavailableError("the module given is not net-trim's runtime build (no sparseLayer/memory export)");
  }
  return k;
}
