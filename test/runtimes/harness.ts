// Helpers of the runtime suite: processes, the packed package in a scratch project, pages in
// Chromium, workerd and the Vercel edge-runtime (the static server: test/helpers/browser.ts).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, join } from "node:path";

export const root = join(import.meta.dirname, "../..");
export const snippets = join(import.meta.dirname, "snippets");
export const bin = (name: string) => join(root, "node_modules/.bin", name);

/**
 * The npm that came with this Node (node_modules/.bin holds an old npm 6 that a dev dependency
 * brings, and is first on PATH under `npx vitest`).
 */
export function npmBin(): string {
  const beside = join(dirname(process.execPath), "npm");
  return existsSync(beside) ? beside : "npm";
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command; never rejects (the caller checks code and output). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Ran> {
  const t = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, NO_COLOR: "1", ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
    child.on("error", (e) => (stderr += String(e)));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t });
    });
  });
}

/** The last line of stdout that parses as JSON. */
export function lastJson(r: Ran): any {
  const lines = r.stdout.trim().split("\n").reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l);
    } catch {
      // not JSON
    }
  }
  throw new Error(`no JSON in the output (code ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** The text between `// readme:start` and `// readme:end` (the part README.md quotes). */
export function readmePart(file: string): string {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf("// readme:start\n");
  const end = text.indexOf("// readme:end");
  if (start < 0 || end < 0) return text;
  return text.slice(start + "// readme:start\n".length, end);
}

/** Copies snippet files and the scenario into a folder of the scratch project. */
export function place(dir: string, files: [from: string, to?: string][]) {
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of files) cpSync(join(snippets, from), join(dir, to ?? from.split("/").pop()!));
  cpSync(join(import.meta.dirname, "scenario.mjs"), join(dir, "scenario.mjs"));
}

/** Opens `url` in a page of `browser` and waits for window.__result. */
export async function pageResult(browser: import("playwright").Browser, url: string): Promise<any> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await page.goto(url);
    const result = await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, undefined, { timeout: 60_000 })
      .then(() => page.evaluate(() => (window as unknown as { __result: Promise<unknown> }).__result));
    return errors.length ? { ...(result as object), pageErrors: errors } : result;
  } finally {
    await page.close();
  }
}

/** Writes a workerd config for every module of a wrangler dry-run output folder and serves it. */
export async function serveWorkerd(outDir: string, main: string, port: number): Promise<{ stop(): void; url: string; log(): string }> {
  const modules = readdirSync(outDir)
    .filter((f) => f.endsWith(".js") || f.endsWith(".wasm"))
    .map((f) => (f.endsWith(".wasm") ? `(name = "./${f}", wasm = embed "${f}")` : `(name = "${f}", esModule = embed "${f}")`))
    .sort((a) => (a.includes(`"${main}"`) ? -1 : 1));
  const toml = readFileSync(join(snippets, "workerd/wrangler.toml"), "utf8");
  const date = /compatibility_date\s*=\s*"([^"]+)"/.exec(toml)![1];
  writeFileSync(join(outDir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .w)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const w :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = "${date}",
);
`);
  const child = spawn(bin("workerd"), ["serve", "config.capnp"], { cwd: outDir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  // Wait until the socket accepts connections (a request would run the worker).
  for (let i = 0; i < 150 && child.exitCode === null; i++) {
    const open = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1", () => (s.end(), r(true)));
      s.on("error", () => r(false));
    });
    if (open) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { stop: () => child.kill("SIGTERM"), url, log: () => log };
}

/**
 * Runs a Vercel Edge function in Vercel's edge-runtime (the package Vercel's own tooling uses):
 * bundled as Vercel does for the edge (conditions edge-light, worker, browser; `.wasm?module`
 * imports become WebAssembly.Module values handed in by the host), in a context where compiling
 * WebAssembly from bytes is disallowed, as on Vercel's edge network.
 */
export async function runEdge(entry: string): Promise<any> {
  const { build } = await import("esbuild");
  const { EdgeRuntime } = (await import("edge-runtime")) as typeof import("edge-runtime");
  const require = createRequire(entry);
  const modules: Record<string, WebAssembly.Module> = {};
  const out = await build({
    entryPoints: [entry], bundle: true, format: "iife", globalName: "edgeFunction", write: false, platform: "browser",
    conditions: ["edge-light", "worker", "browser"], logLevel: "error",
    plugins: [{
      name: "vercel-wasm-module",
      setup(b) {
        b.onResolve({ filter: /\.wasm\?module$/ }, (a) => ({ path: require.resolve(a.path.replace(/\?module$/, ""), { paths: [a.resolveDir] }), namespace: "wasm-module" }));
        b.onLoad({ filter: /.*/, namespace: "wasm-module" }, (a) => {
          modules[a.path] = new WebAssembly.Module(readFileSync(a.path));
          return { contents: `export default globalThis.__wasmModules[${JSON.stringify(a.path)}];`, loader: "js" };
        });
      },
    }],
  });
  const code = `${out.outputFiles[0].text}\naddEventListener("fetch", (event) => event.respondWith(edgeFunction.default(event.request)));`;
  const runtime = new EdgeRuntime({
    initialCode: code,
    codeGeneration: { strings: false, wasm: false },
    extend: (context) => Object.assign(context, { __wasmModules: modules }),
  });
  const response = await runtime.dispatchFetch("http://localhost/");
  return JSON.parse(await response.text());
}
