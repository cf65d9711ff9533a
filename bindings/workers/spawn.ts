// Creates a layer worker (running workers/entry) for the current runtime, adapted to the pool's
// WorkerHandle. Node built-ins are imported through runtime.ts (a computed specifier no bundler
// follows), in the Node branch only.
//
// - Runtimes with a global Worker (browsers, Deno, Bun): a module Worker on
//   `new URL("./entry.js", import.meta.url)`, the pattern bundlers (Vite, webpack 5,
//   esbuild plugins) rewrite. From the TypeScript sources, Vite serves entry.ts for that
//   URL (it maps .js to .ts for TS importers, as for imports).
// - Node (worker_threads): entry.js next to this file when it exists (the built package,
//   dist/bindings/); otherwise entry.ts (the sources, run by vitest or tsx), loaded through
//   tsx's ESM hooks registered inside the worker (Node 20 does not apply `--import tsx` given in
//   a worker's execArgv, and vitest's own transform does not reach workers). Without tsx the .ts
//   is loaded directly (Node with type stripping).
// - Neither (Cloudflare workerd, Vercel Edge): workerSupport() says why; pruneNetwork then runs
//   its layers in this thread and reports it, createLayerPool throws a WasmUnavailableError.
import { WasmUnavailableError } from "../errors.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "./protocol.ts";
import { hasNodeBuiltins, importNodeBuiltin, runtimeName } from "../runtime.ts";

interface WebWorker {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: string, listener: (event: { data?: unknown; message?: string; error?: unknown; preventDefault?(): void }) => void): void;
  terminate(): void;
}

const hasWebWorker = (): boolean => typeof (globalThis as { Worker?: unknown }).Worker === "function";

/**
 * Why this runtime cannot run pool workers, or undefined when it can (a global Worker: browsers,
 * Deno, Bun; or Node's worker_threads).
 */
export function workerSupport(): string | undefined {
  if (hasWebWorker() || hasNodeBuiltins()) return undefined;
  switch (runtimeName()) {
    case "workerd":
      return "Cloudflare Workers (workerd) have no Worker threads";
    case "edge-light":
      return "the Vercel Edge Runtime has no Worker threads";
    default:
      return "this runtime has neither a global Worker nor Node's worker_threads";
  }
}

/** Starts one worker running workers/entry. */
export async function spawnLayerWorker(): Promise<WorkerHandle> {
  if (hasWebWorker()) return spawnWebWorker();
  if (hasNodeBuiltins()) return spawnNodeWorker();
  throw new WasmUnavailableError(`cannot start a net-trim worker: ${workerSupport()}. Solve in this thread (pruneLayer, or pruneNetwork with workers: 0).`);
}

/** The default pool size: the runtime's hardware concurrency (at least 1). */
export async function defaultPoolSize(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav && typeof nav.hardwareConcurrency === "number" && nav.hardwareConcurrency > 0) return nav.hardwareConcurrency;
  if (!hasNodeBuiltins()) return 1;
  try {
    const os = await importNodeBuiltin("os");
    return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
  } catch {
    return 1;
  }
}

function spawnWebWorker(): WorkerHandle {
  let w: WebWorker;
  try {
    // Literal, in one expression: the pattern Vite, webpack 5, Rollup and Parcel bundle as a worker.
    w = new Worker(new URL("./entry.js", import.meta.url), { type: "module" }) as unknown as WebWorker;
  } catch (e) {
    throw new WasmUnavailableError(
      `cannot start a net-trim worker from ./entry.js next to ${String(safeModuleUrl())}: ${(e as Error).message}. ` +
        "Bundle net-trim's worker (dist/bindings/workers/entry.js) next to your script, or run with workers: 0.",
    );
  }
  return {
    postMessage: (message: ToWorker, transfer: Transferable[] = []) => w.postMessage(message, transfer),
    onMessage: (listener) => w.addEventListener("message", (event) => listener(event.data as FromWorker)),
    onError: (listener) => {
      w.addEventListener("error", (event) => {
        event.preventDefault?.();
        const cause = event.error instanceof Error ? event.error : undefined;
        listener(
          cause ??
            new Error(
              event.message ||
                `net-trim's worker script (${safeSibling("./entry.js")}) failed to load or threw. Vite and webpack bundle it by themselves; ` +
                  "with esbuild add it as an entry point named entry next to your bundle (esbuild app.js entry=net-trim/worker --bundle --format=esm …)",
            ),
        );
      });
      w.addEventListener("messageerror", () => listener(new Error("a message from the worker could not be deserialized")));
    },
    terminate: async () => w.terminate(),
  };
}

function safeSibling(name: string): string {
  try {
    return sibling(name).href;
  } catch {
    return name;
  }
}

function safeModuleUrl(): string | undefined {
  try {
    return import.meta.url;
  } catch {
    return undefined;
  }
}

/**
 * A file next to this one. Not `new URL(…, import.meta.url)` in one expression: bundlers would
 * emit the Node entry as an extra asset (or, for a non-literal name, warn about an expression).
 */
const here = (): string => import.meta.url;
const sibling = (name: string): URL => new URL(name, here());

async function spawnNodeWorker(): Promise<WorkerHandle> {
  const [{ Worker: NodeWorker }, { existsSync, readFileSync }, { fileURLToPath, pathToFileURL }, { createRequire }] = await Promise.all([
    importNodeBuiltin("worker_threads"), importNodeBuiltin("fs"), importNodeBuiltin("url"), importNodeBuiltin("module"),
  ]);
  const js = sibling("./entry.js");
  let w: InstanceType<typeof NodeWorker>;
  if (js.protocol !== "file:" || existsSync(fileURLToPath(js))) {
    w = new NodeWorker(js);
  } else {
    const ts = sibling("./entry.ts");
    let tsxApi: string | undefined;
    try {
      // tsx's ESM API, found through its package.json with createRequire (import.meta.resolve
      // would do, but bundlers try to resolve it at build time).
      const pkgPath = createRequire(ts).resolve("tsx/package.json");
      const api = (JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, { import?: string | { default?: string } }> })
        .exports?.["./esm/api"]?.import;
      const file = typeof api === "string" ? api : api?.default;
      tsxApi = file ? new URL(file, pathToFileURL(pkgPath)).href : undefined;
    } catch {
      tsxApi = undefined;
    }
    w = tsxApi
      ? new NodeWorker(
          `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ts.href)}); });`,
          { eval: true },
        )
      : new NodeWorker(ts);
  }
  let terminating = false;
  let failed = false;
  return {
    postMessage: (message: ToWorker, transfer: Transferable[] = []) =>
      w.postMessage(message, transfer as unknown as Parameters<typeof w.postMessage>[1]),
    onMessage: (listener) => {
      w.on("message", (m: FromWorker) => listener(m));
    },
    onError: (listener) => {
      w.on("error", (e: Error) => {
        failed = true;
        listener(e);
      });
      w.on("exit", (code: number) => {
        if (!terminating && !failed) listener(new Error(`the worker exited with code ${code}`));
      });
    },
    terminate: async () => {
      terminating = true;
      await w.terminate();
    },
    ref: () => w.ref(),
    unref: () => w.unref(),
  };
}
