// What the current runtime offers, found by feature detection, and Node's built-ins imported so
// that no bundler follows them: a browser, workerd or edge bundle of net-trim contains no
// `node:*` import to resolve or externalize, and the Node-only code is reached only where
// `process.versions.node` says Node (or Bun/Deno's Node layer) is there.

/** Node built-ins net-trim uses (Node, Bun and Deno provide them). */
interface NodeBuiltins {
  "fs/promises": typeof import("node:fs/promises");
  fs: typeof import("node:fs");
  module: typeof import("node:module");
  os: typeof import("node:os");
  url: typeof import("node:url");
  worker_threads: typeof import("node:worker_threads");
}

/**
 * Imports a Node built-in through a computed specifier: bundlers (esbuild, Rollup/Vite,
 * webpack, Parcel) leave `import(specifier)` alone instead of trying to resolve `node:…`.
 */
export function importNodeBuiltin<K extends keyof NodeBuiltins>(name: K): Promise<NodeBuiltins[K]> {
  const specifier = `node:${name}`;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<NodeBuiltins[K]>;
}

interface Globals {
  process?: { versions?: { node?: string; bun?: string } };
  Deno?: { version?: { deno?: string } };
  Bun?: unknown;
  EdgeRuntime?: unknown;
  WebSocketPair?: unknown;
  navigator?: { userAgent?: string; hardwareConcurrency?: number };
  Worker?: unknown;
}

const g = globalThis as unknown as Globals;

type RuntimeName = "node" | "bun" | "deno" | "workerd" | "edge-light" | "browser" | "unknown";

/** The runtime this code runs in, by feature detection. */
export function runtimeName(): RuntimeName {
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (g.EdgeRuntime !== undefined) return "edge-light";
  if (g.Deno?.version?.deno) return "deno";
  if (g.Bun !== undefined || g.process?.versions?.bun) return "bun";
  if (typeof g.process?.versions?.node === "string") return "node";
  if (typeof (globalThis as { document?: unknown }).document === "object" || typeof g.Worker === "function") return "browser";
  return "unknown";
}

/** Whether Node's built-ins (fs, worker_threads, os) can be imported here. */
export function hasNodeBuiltins(): boolean {
  const r = runtimeName();
  return r === "node" || r === "bun" || r === "deno";
}
