// Loads the runtime's own WebAssembly builds (kernels for inference, separate from the solver's):
// build/net-trim-runtime.wasm (SIMD) where WebAssembly.validate accepts SIMD, else
// build/net-trim-runtime-scalar.wasm (the same kernels one float at a time, the same bits). Same
// conventions as wasm/loader.ts: found next to the package's JS by one literal
// new URL(…, import.meta.url) per build, fetched from a URL the caller gives (esbuild's file
// loader), or handed over as a compiled module (workerd, Vercel Edge, Deno's import source).
import { ValidationError, WasmUnavailableError } from "../errors.ts";
import { compileFromUrl, isWasmModule, noImportMetaUrl, simdSupported, type WasmUser } from "../wasm/loader.ts";

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
  simdBuild(): number;
  pool2d(
    rows: number, h: number, w: number, c: number, oh: number, ow: number,
    ph: number, pw: number, sh: number, sw: number, padTop: number, padLeft: number, isMax: number, x: number, y: number,
  ): void;
}

/** How the caller chose the build (RuntimeOptions.module, url, simd). */
export interface RuntimeModuleChoice {
  module?: WebAssembly.Module;
  url?: string | URL;
  simd?: boolean | "auto";
}

/** How the runtime's errors tell the caller to hand its module over. */
const RUNTIME_WASM: WasmUser = {
  file: "net-trim-runtime.wasm",
  handOver: (kind, value) => `loadModel(source, { ${kind}: ${value} })`,
  advice: "pass it as {module} to loadModel or createRuntime",
};

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles once per URL; a failure is not kept (the next call tries again). */
function compileOnce(url: URL): Promise<WebAssembly.Module> {
  let m = compiled.get(url.href);
  if (!m) {
    m = compileFromUrl(url, RUNTIME_WASM);
    compiled.set(url.href, m);
    m.catch(() => compiled.delete(url.href));
  }
  return m;
}

/** The package's build: one literal URL per build, so bundlers emit both files. */
function packagedUrl(simd: boolean): URL {
  try {
    return simd
      ? new URL("../../build/net-trim-runtime.wasm", import.meta.url)
      : new URL("../../build/net-trim-runtime-scalar.wasm", import.meta.url);
  } catch (e) {
    throw noImportMetaUrl(simd ? "net-trim-runtime.wasm" : "net-trim-runtime-scalar.wasm", e, RUNTIME_WASM);
  }
}

function runtimeModule(choice: RuntimeModuleChoice): Promise<WebAssembly.Module> {
  if (typeof WebAssembly === "undefined") return Promise.reject(new WasmUnavailableError("the sparse runtime needs WebAssembly, which this runtime does not have"));
  if (choice.url !== undefined) {
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    let url: URL;
    try {
      url = new URL(choice.url, base);
    } catch {
      return Promise.reject(new ValidationError("options.url", "an absolute URL, or a relative one in a page", choice.url));
    }
    return compileOnce(url);
  }
  const simd = choice.simd === undefined || choice.simd === "auto" ? simdSupported() : choice.simd;
  if (simd && !simdSupported()) {
    return Promise.reject(new WasmUnavailableError('options.simd is true but this runtime does not validate WebAssembly SIMD: use simd: "auto" or false (the scalar build)'));
  }
  let url: URL;
  try {
    url = packagedUrl(simd);
  } catch (e) {
    return Promise.reject(e);
  }
  return compileOnce(url);
}

/** Checks the module-choosing options (RuntimeOptions.module, url, simd). */
export function checkModuleChoice(choice: RuntimeModuleChoice): void {
  if (choice.module !== undefined && !isWasmModule(choice.module)) {
    throw new ValidationError("options.module", 'a WebAssembly.Module (the default import of net-trim/wasm/net-trim-runtime.wasm where .wasm imports compile)', choice.module);
  }
  if (choice.url !== undefined && typeof choice.url !== "string" && !(choice.url instanceof URL)) {
    throw new ValidationError("options.url", "a string or URL", choice.url);
  }
  if (choice.simd !== undefined && choice.simd !== true && choice.simd !== false && choice.simd !== "auto") {
    throw new ValidationError("options.simd", 'true, false or "auto"', choice.simd);
  }
  if (choice.module !== undefined && choice.url !== undefined) throw new ValidationError("options", "either module or url, not both", "both");
}

/** A fresh instance (its own memory) of the module chosen by `choice` (checked by checkModuleChoice). */
export async function instantiateRuntime(choice: RuntimeModuleChoice = {}): Promise<RuntimeKernels> {
  const m = choice.module ?? (await runtimeModule(choice));
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(m, { env: { abort: () => { throw new WasmUnavailableError("the net-trim runtime module aborted"); } } });
  } catch (e) {
    throw new WasmUnavailableError(`could not instantiate the net-trim runtime module: ${(e as Error).message}`);
  }
  const k = instance.exports as unknown as RuntimeKernels;
  if (typeof k.sparseLayer !== "function" || typeof k.simdBuild !== "function" || !(k.memory instanceof WebAssembly.Memory)) {
    throw new WasmUnavailableError("the module given is not net-trim's runtime build (no sparseLayer/simdBuild/memory export)");
  }
  return k;
}
