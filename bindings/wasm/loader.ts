// Loads the WebAssembly kernels: the SIMD build when the runtime validates SIMD, else the
// scalar build. Works in Node and browsers with no path configuration, and accepts an already
// compiled WebAssembly.Module (edge runtimes such as workerd refuse to compile at run time).
import { ValidationError, WasmUnavailableError } from "../errors.ts";
import { checkOptionNames } from "../option-checks.ts";
import { hasNodeBuiltins, importNodeBuiltin, runtimeName } from "../runtime.ts";
import type { KernelExports } from "./kernel-exports.ts";

export interface Backend {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Whether this instance runs the SIMD build. */
  readonly simd: boolean;
}

export interface InitOptions {
  /** A compiled net-trim module: the default import of `net-trim/wasm/net-trim-simd.wasm` where the runtime or bundler turns .wasm imports into modules (wrangler, Vercel Edge with `?module`, Deno's `import source`). */
  module?: WebAssembly.Module | Promise<WebAssembly.Module>;
  /**
   * Instead of `module`: where to fetch a build, for bundlers that hand you a file's URL rather
   * than a module (esbuild's file loader gives the URL as the default import of `net-trim/wasm/net-trim-simd.wasm`).
   * A relative string is resolved against the page's location.
   */
  url?: string | URL;
  /** Without `module` or `url`: force the SIMD (true) or scalar (false) build; default "auto" (SIMD when it validates). */
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

/** The two builds, as files next to the package's JS. */
const FILES = { simd: "net-trim-simd.wasm", scalar: "net-trim-scalar.wasm" } as const;

/**
 * Where the build lives: one literal `new URL("…", import.meta.url)` per build, the form Vite,
 * webpack 5, Rollup, Parcel and esbuild (with `--loader:.wasm=file`) recognise: they emit the
 * .wasm with the bundle and rewrite the URL, so a page needs no path configuration.
 */
function wasmUrl(simd: boolean): URL {
  try {
    return simd
      ? new URL("../../build/net-trim-simd.wasm", import.meta.url)
      : new URL("../../build/net-trim-scalar.wasm", import.meta.url);
  } catch (e) {
    throw noImportMetaUrl(simd ? FILES.simd : FILES.scalar, e, SOLVER_WASM);
  }
}

/** Whose module an error is about, and how its caller hands one over (the solver's: init; the sparse runtime's: loadModel). */
export interface WasmUser {
  /** The package's file, as in the subpath net-trim/wasm/<file>. */
  file: string;
  /** The call that takes a compiled module or a URL, e.g. `init({ module: wasm })`. */
  handOver(kind: "module" | "url", value: string): string;
  /** What to do instead, in short: "call init({module})". */
  advice: string;
}

const SOLVER_WASM: WasmUser = { file: FILES.simd, handOver: (kind, value) => `init({ ${kind}: ${value} })`, advice: "call init({module})" };

/** The error for a build that cannot be located: no usable import.meta.url (a classic script, an edge bundle). */
export function noImportMetaUrl(file: string, e: unknown, user: WasmUser): WasmUnavailableError {
  let base: unknown;
  try {
    base = import.meta.url;
  } catch {
    base = undefined;
  }
  return new WasmUnavailableError(
    `cannot locate ${file}: this code has no usable import.meta.url (${String(base)}; ${(e as Error).message}), ` +
      `as in a classic script or an edge bundle. ${importHint(user)}`,
  );
}

/** How to hand the module over in this runtime (README, "Edge runtimes and bundlers"). */
function importHint(user: WasmUser): string {
  const subpath = `net-trim/wasm/${user.file}`;
  switch (runtimeName()) {
    case "deno":
      return `With Deno: import source wasm from "${subpath}"; await ${user.handOver("module", "wasm")}.`;
    case "edge-light":
      return `With Vercel Edge: import wasm from "${subpath}?module"; await ${user.handOver("module", "wasm")}.`;
    case "workerd":
      return `With wrangler: import wasm from "${subpath}"; await ${user.handOver("module", "wasm")}.`;
    case "browser":
      return `With esbuild: import wasmUrl from "${subpath}" (--loader:.wasm=file); await ${user.handOver("url", "wasmUrl")}.`;
    default:
      return `Import the module (import wasm from "${subpath}" where your runtime compiles .wasm imports) and call ${user.handOver("module", "wasm")}.`;
  }
}

/** Whether `m` is a compiled WebAssembly.Module (also one made in another realm, e.g. an edge runtime's host). */
export function isWasmModule(m: unknown): m is WebAssembly.Module {
  return (
    (typeof WebAssembly !== "undefined" && m instanceof WebAssembly.Module) ||
    Object.prototype.toString.call(m) === "[object WebAssembly.Module]"
  );
}

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** The message for a runtime that refuses WebAssembly.compile(bytes) (workerd, Vercel Edge, CSP without wasm-unsafe-eval). */
function refusesBytes(e: unknown): boolean {
  return /disallowed by embedder|code generation|wasm-unsafe-eval|not allowed|Content Security Policy/i.test(errorText(e));
}

async function compileBytes(bytes: ArrayBuffer | Uint8Array, where: string, user: WasmUser, contentType?: string | null): Promise<WebAssembly.Module> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (view.length < 4 || magic.some((b, i) => view[i] !== b)) {
    const head = Array.from(view.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = new TextDecoder().decode(view.subarray(0, 64)).trimStart().toLowerCase();
    const html = (contentType ?? "").includes("text/html") || text.startsWith("<!doctype") || text.startsWith("<html") || text.startsWith("<");
    if (html) {
      throw new WasmUnavailableError(
        `${where} answered with HTML instead of WebAssembly (content type ${contentType ?? "unknown"}; first bytes ${head}): ` +
          "HTML was served instead of WebAssembly: with Vite's dev server add net-trim to optimizeDeps.exclude " +
          "(its dependency pre-bundling moves net-trim's JS away from its .wasm); otherwise serve the package's dist/build/*.wasm at that URL. " +
          importHint(user),
      );
    }
    throw new WasmUnavailableError(
      `${where} is not WebAssembly: expected the magic word 00 61 73 6d, found ${head || "an empty body"} (content type ${contentType ?? "unknown"}). ${importHint(user)}`,
    );
  }
  try {
    return await WebAssembly.compile(view as Uint8Array<ArrayBuffer>);
  } catch (e) {
    if (refusesBytes(e)) {
      throw new WasmUnavailableError(
        `this runtime refuses to compile WebAssembly from bytes (${errorText(e)}): import the module and ${user.advice}. ${importHint(user)}`,
      );
    }
    throw new WasmUnavailableError(`could not compile ${where}: ${errorText(e)}`);
  }
}

/** Reads a file: URL with Node's fs (Node, Bun, Deno), naming the path and what to do when it fails. */
async function readFileUrl(url: URL, user: WasmUser): Promise<Uint8Array> {
  const [{ readFile }, { fileURLToPath }] = await Promise.all([importNodeBuiltin("fs/promises"), importNodeBuiltin("url")]);
  const path = fileURLToPath(url);
  const dir = fileURLToPath(new URL(".", url));
  try {
    return await readFile(path);
  } catch (e) {
    const err = e as { code?: string; name?: string };
    const text = errorText(e);
    if (runtimeName() === "deno" && (err.name === "NotCapable" || err.name === "PermissionDenied" || /--allow-read|Requires read access|NotCapable|PermissionDenied/i.test(text))) {
      throw new WasmUnavailableError(
        `Deno's permissions refused reading ${path} (${text}): run with --allow-read=${dir} or import the module and ${user.advice}. ${importHint(user)}`,
      );
    }
    if (err.code === "ENOENT") {
      throw new WasmUnavailableError(
        `${path} does not exist (ENOENT): this copy of net-trim has no WebAssembly build there. Reinstall the package ` +
          `(from a clone of the repository: npm run asbuild), or import the module and ${user.advice}.`,
      );
    }
    if (err.code === "EACCES" || err.code === "EPERM") {
      throw new WasmUnavailableError(`permission denied reading ${path} (${err.code}): make it readable, or import the module and ${user.advice}.`);
    }
    throw new WasmUnavailableError(`could not read ${path}: ${text}`);
  }
}

/** Compiles the build at `url` (a file: URL read with Node's fs where there is one, else fetched); `user` words the errors. */
export async function compileFromUrl(url: URL, user: WasmUser = SOLVER_WASM): Promise<WebAssembly.Module> {
  if (url.protocol === "file:" && hasNodeBuiltins()) return compileBytes(await readFileUrl(url, user), fileUrlPath(url), user);
  if (typeof fetch !== "function") {
    throw new WasmUnavailableError(`cannot load ${url.href}: this runtime has neither fetch nor Node's fs. ${importHint(user)}`);
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new WasmUnavailableError(
      `fetching ${url.href} failed (${errorText(e)})${url.protocol === "file:" ? ": this runtime cannot read files" : ""}. ${importHint(user)}`,
    );
  }
  const contentType = response.headers.get("content-type");
  if (!response.ok) {
    throw new WasmUnavailableError(
      `fetching ${url.href} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} (content type ${contentType ?? "unknown"}). ` +
        "The .wasm must be served at that URL: bundlers emit it for you (Vite, webpack; esbuild with --loader:.wasm=file); " +
        `otherwise copy net-trim's dist/build/*.wasm there. ${importHint(user)}`,
    );
  }
  return compileBytes(await response.arrayBuffer(), `fetching ${url.href} (HTTP ${response.status})`, user, contentType);
}

function fileUrlPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.href;
  }
}

/** Compiles the build this runtime supports (SIMD when it validates, unless `simd: false`). */
export async function compileModule(simd: boolean = simdSupported()): Promise<WebAssembly.Module> {
  if (typeof WebAssembly === "undefined") throw new WasmUnavailableError("WebAssembly is not available in this runtime");
  return compileFromUrl(wasmUrl(simd));
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

let defaultModule: Promise<WebAssembly.Module> | undefined;
let defaultBackend: Promise<Backend> | undefined;

function checkInitOptions(options: InitOptions): void {
  if (options === null || typeof options !== "object") throw new ValidationError("init options", "an object {module?, url?, simd?}", options);
  checkOptionNames(options, "init options", ["module", "url", "simd"]);
  if (options.module !== undefined && options.url !== undefined) {
    throw new ValidationError("init options", "either module or url, not both", options);
  }
  if (options.url !== undefined && typeof options.url !== "string" && !(options.url instanceof URL)) {
    throw new ValidationError("init options.url", "a string or URL", options.url);
  }
  if (options.simd !== undefined && options.simd !== true && options.simd !== false && options.simd !== "auto") {
    throw new ValidationError("init options.simd", 'true, false or "auto"', options.simd);
  }
}

/**
 * Sets up the default backend. Optional: pruneLayer calls it on first use. Pass `module` where
 * the runtime cannot compile WebAssembly from bytes or cannot read the package's files
 * (Cloudflare workerd, Vercel Edge, Deno without --allow-read). The module given (or compiled)
 * is also the one the worker pool of pruneNetwork posts to its workers.
 */
export function init(options: InitOptions = {}): Promise<Backend> {
  checkInitOptions(options);
  const module = (async () => {
    if (options.module !== undefined) {
      const m = await options.module;
      if (!isWasmModule(m)) {
        throw new ValidationError("init options.module", 'a WebAssembly.Module (import wasm from "net-trim/wasm/net-trim-simd.wasm")', m);
      }
      return m;
    }
    if (options.url !== undefined) {
      if (typeof WebAssembly === "undefined") throw new WasmUnavailableError("WebAssembly is not available in this runtime");
      const base = (globalThis as { location?: { href?: string } }).location?.href;
      let url: URL;
      try {
        url = new URL(options.url, base);
      } catch {
        throw new ValidationError("init options.url", "an absolute URL, or a relative one in a page", options.url);
      }
      return compileFromUrl(url);
    }
    const useSimd = options.simd === undefined || options.simd === "auto" ? simdSupported() : options.simd;
    return compileModule(useSimd);
  })();
  const backend = module.then(instantiate);
  defaultModule = module;
  defaultBackend = backend;
  backend.catch(() => {
    // A failed set-up is not kept: the next call tries again (and throws the same error if nothing changed).
    if (defaultBackend === backend) {
      defaultBackend = undefined;
      defaultModule = undefined;
    }
  });
  return backend;
}

export function getBackend(): Promise<Backend> {
  return defaultBackend ?? init();
}

/** The compiled module of the default backend (the one init was given or compiled): what pool workers instantiate. */
export async function getModule(): Promise<WebAssembly.Module> {
  if (!defaultModule) void init().catch(() => undefined);
  await defaultBackend; // the module must also instantiate here; its error is the one to report
  return defaultModule!;
}
