// The package as a new user gets it (npm pack → npm install <tarball> in a scratch project), run
// in every runtime README.md documents, with the snippet files README quotes and the commands it
// states: Node, Bun, Deno (with --allow-read, and with import source and no flag), Cloudflare
// workerd (built by wrangler), Vercel's edge-runtime, and headless Chromium on pages built by
// Vite (build and dev server), webpack and esbuild. All run one seeded scenario (scenario.mjs)
// and must return weights bit-identical to the sources run here, and sparse-runtime predictions
// (pruned MLP and CNN as .ntz, the CNN also as model.json) within 1e-5 of the dense forward pass computed here
// and bit-identical to the sources run here. Times go to test/artifacts/runtimes.json and a
// table printed at the end.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, matrix, pruneLayer, pruneNetwork } from "../../bindings/index.ts";
import { relativeDeviation } from "../helpers/tfjs-models.ts";
import { bin, npmBin, lastJson, pageResult, place, readmePart, root, run, runEdge, serveWorkerd, snippets } from "./harness.ts";
import { launchChromium, serveDir } from "../helpers/browser.ts";
import { runtimeModels, writeRuntimeModels, type RuntimeModels } from "./runtime-models.ts";
// @ts-expect-error plain JS module shared with the other runtimes
import { runScenario } from "./scenario.mjs";

/** The commands README.md states, run as written (the program is taken from node_modules/.bin). */
const COMMANDS = {
  node: "node app.mjs",
  bun: "bun app.mjs",
  denoRead: "deno run --allow-read=node_modules/net-trim/dist/build app.mjs",
  denoSource: "deno run main.js",
  wrangler: "wrangler deploy --dry-run --outdir out",
  esbuild: "esbuild main.js entry=net-trim/worker --bundle --format=esm --loader:.wasm=file --outdir=dist",
} as const;

interface Row {
  runtime: string;
  pruneLayer: string;
  pruneNetwork: string;
  userMust: string;
  sparseRuntime: string;
  layerMs: number | null;
  networkMs: number | null;
  runtimeMs: number | null;
  hashes: "identical" | "DIFFERENT";
  note?: string;
}

const rows: Row[] = [];
let reference: any;
let models: RuntimeModels;
let tmp = "";
let app = "";
let browser: import("playwright").Browser | undefined;

function runCommand(command: string, cwd: string, env: Record<string, string> = {}) {
  const [program, ...args] = command.split(" ");
  return run(program === "node" ? process.execPath : bin(program), args, { cwd, env });
}

/** The sparse runtime's predictions: each within 1e-5 of the dense forward pass, the same bits as here. */
function runtimeSummary(results: any[] | undefined): { text: string; identical: boolean } {
  if (!Array.isArray(results)) return { text: "failed", identical: false };
  let worst = 0;
  for (const r of results) worst = Math.max(worst, relativeDeviation(Float32Array.from(r.output), models.expected.get(r.name)!));
  const identical = results.length === reference.runtime.length && results.every((r, i) => r.hash === reference.runtime[i].hash);
  return { text: `${results.length} models, ${results.every((r) => r.simd) ? "SIMD" : "scalar"}, ≤ ${worst.toExponential(1)} of dense`, identical };
}

function expectRuntime(results: any[] | undefined) {
  expect(results).toHaveLength(reference.runtime.length);
  results!.forEach((r, i) => {
    const want = models.expected.get(r.name)!;
    expect(r.output).toHaveLength(want.length);
    expect(relativeDeviation(Float32Array.from(r.output), want), `${r.name} (${r.form})`).toBeLessThan(1e-5);
    expect(r).toMatchObject({ name: reference.runtime[i].name, form: reference.runtime[i].form, simd: true, hash: reference.runtime[i].hash });
    expect(r.kernels.every((k: string) => k === "sparse")).toBe(true);
  });
}

/** Checks a scenario result against the reference and records its row. */
function record(runtime: string, out: any, userMust: string, opts: { workers: boolean; note?: string; layerMs?: number; networkMs?: number; runtimeMs?: number }) {
  const rt = runtimeSummary(out.runtime);
  const hashes = out.layer?.hash === reference.layer.hash && out.network?.hash === reference.network.hash && rt.identical ? "identical" : "DIFFERENT";
  const ex = out.network?.execution;
  rows.push({
    runtime,
    pruneLayer: out.layer ? `${out.layer.status}${out.layer.simd ? ", SIMD" : ", scalar"}` : "failed",
    pruneNetwork: !out.network ? "failed" : ex?.inThread ? `in this thread (${ex.reason})` : `${ex?.workers} workers`,
    sparseRuntime: rt.text,
    userMust,
    layerMs: opts.layerMs ?? out.layer?.ms ?? null,
    networkMs: opts.networkMs ?? out.network?.ms ?? null,
    runtimeMs: opts.runtimeMs ?? (Array.isArray(out.runtime) ? Math.round(out.runtime.reduce((a: number, r: any) => a + r.ms, 0) * 10) / 10 : null),
    hashes,
    note: opts.note,
  });
  expect(out.layer).toMatchObject({ hash: reference.layer.hash, status: reference.layer.status, simd: true });
  expect(out.network).toMatchObject({ hash: reference.network.hash, status: reference.network.status });
  expectRuntime(out.runtime);
  if (opts.workers) expect(out.network.execution).toEqual({ workers: 2, inThread: false });
  else expect(out.network.execution).toMatchObject({ workers: 0, inThread: true, reason: expect.stringMatching(/no Worker threads/) });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "net-trim-runtimes-"));
  // The tarball a user installs. `npm pack` would run prepack (npm run build), whose asbuild step
  // rewrites build/*.wasm while other test files read them: build only dist/ here (the wasm is
  // built by scripts/test.sh before any test, or now if it is missing), then pack without scripts.
  const builds = ["net-trim-simd.wasm", "net-trim-scalar.wasm", "net-trim-simd-threads.wasm", "net-trim-runtime.wasm", "net-trim-runtime-scalar.wasm"];
  if (builds.some((f) => !existsSync(join(root, "build", f)))) {
    const as = await run(npmBin(), ["run", "asbuild"], { cwd: root, timeoutMs: 180_000 });
    expect(as.code, as.stderr).toBe(0);
  }
  rmSync(join(root, "dist"), { recursive: true, force: true }); // nothing stale from deleted sources gets packed
  const tsc = await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, timeoutMs: 180_000 });
  expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  mkdirSync(join(root, "dist/build"), { recursive: true });
  for (const f of builds) cpSync(join(root, "build", f), join(root, "dist/build", f));
  const pack = await run(npmBin(), ["pack", "--ignore-scripts", "--pack-destination", tmp, "--silent"], { cwd: root, timeoutMs: 180_000 });
  expect(pack.code, pack.stderr).toBe(0);
  const tarball = join(tmp, pack.stdout.trim().split("\n").pop()!);
  // The reference: the sources in this process, in this thread (after the pack, which built the wasm).
  models = runtimeModels();
  reference = await runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 0, models: models.module });
  app = join(tmp, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  // --prefer-offline: the package's one dependency (protobufjs, for ONNX) and its own come from the
  // npm cache that the project's install filled, or from the registry for their metadata.
  const install = await run(npmBin(), ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: app, timeoutMs: 120_000 });
  expect(install.code, install.stderr).toBe(0);
  place(app, [["node/app.mjs"], ["deno/main.js"]]);
  place(join(app, "workerd"), [["workerd/worker.js"], ["workerd/wrangler.toml"]]);
  place(join(app, "vercel"), [["vercel/edge.js"]]);
  place(join(app, "vite"), [["vite/main.js"], ["vite/index.html"]]);
  place(join(app, "webpack"), [["vite/main.js"], ["webpack/webpack.config.js"]]);
  place(join(app, "esbuild"), [["esbuild/main.js"]]);
  writeRuntimeModels(models, ["", "workerd", "vercel", "vite", "webpack", "esbuild"].map((d) => join(app, d)));
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (rows.length === 0) return;
  mkdirSync(join(root, "test/artifacts"), { recursive: true });
  writeFileSync(join(root, "test/artifacts/runtimes.json"), `${JSON.stringify({ date: new Date().toISOString(), reference, rows }, null, 2)}\n`);
  const table = [
    "| runtime | pruneLayer | parallel pruneNetwork | sparse runtime | what the user must do | pruneLayer ms | pruneNetwork ms | runtime ms (3 loads + predicts) | bits vs Node |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.runtime} | ${r.pruneLayer} | ${r.pruneNetwork} | ${r.sparseRuntime} | ${r.userMust} | ${r.layerMs ?? "—"} | ${r.networkMs ?? "—"} | ${r.runtimeMs ?? "—"} | ${r.hashes}${r.note ? ` (${r.note})` : ""} |`),
  ].join("\n");
  writeFileSync(join(root, "test/artifacts/runtimes.md"), `${table}\n`);
  console.log(`\n${table}\n`);
});

describe("the packed package in each runtime (one seeded scenario, weights identical to Node's)", () => {
  it("Node 20: no setup; parallel mode on 2 worker_threads", async () => {
    const r = await runCommand(COMMANDS.node, app);
    expect(r.code, r.stderr).toBe(0);
    record(`Node ${process.versions.node}`, lastJson(r), "nothing", { workers: true });
  });

  it("Bun: no setup; parallel mode on 2 Workers", async () => {
    const r = await runCommand(COMMANDS.bun, app);
    expect(r.code, r.stderr).toBe(0);
    record("Bun 1.4.4", lastJson(r), "nothing", { workers: true });
  });

  it("Deno with --allow-read on the package's build folder; parallel mode on 2 Workers", async () => {
    const r = await runCommand(COMMANDS.denoRead, app, { DENO_NO_UPDATE_CHECK: "1" });
    expect(r.code, r.stderr).toBe(0);
    record("Deno 2.9.6 (default loader)", lastJson(r), "`--allow-read=node_modules/net-trim/dist/build`", { workers: true });
  });

  it("Deno with import source + init({module}) and no permission flag; the pool gets the same module", async () => {
    const r = await runCommand(COMMANDS.denoSource, app, { DENO_NO_UPDATE_CHECK: "1" });
    expect(r.code, r.stderr).toBe(0);
    record("Deno 2.9.6 (import source)", lastJson(r), "`import source` + `init({module})`, `loadModel(…, {module})`", { workers: true });
  });

  it("Deno without the flag: a WasmUnavailableError that names the flag and the alternative", async () => {
    const r = await runCommand("deno run app.mjs", app, { DENO_NO_UPDATE_CHECK: "1" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/WasmUnavailableError: Deno's permissions refused reading .*net-trim-simd\.wasm/);
    expect(r.stderr).toMatch(/run with --allow-read=.*node_modules\/net-trim\/dist\/build\/ or import the module and call init\(\{module\}\)/);
    expect(r.stderr).toContain('import source wasm from "net-trim/wasm/net-trim-simd.wasm"');
  });

  it("Cloudflare workerd: built by wrangler (default CompiledWasm rule), init({module}); parallel mode falls back to this thread", async () => {
    const dir = join(app, "workerd");
    const built = await runCommand(COMMANDS.wrangler, dir, { WRANGLER_SEND_METRICS: "false", CI: "1" });
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const server = await serveWorkerd(join(dir, "out"), "worker.js", 18000 + Math.floor(Math.random() * 2000));
    try {
      // Two requests, timed from outside: workerd's clock does not advance during a request's computation.
      let t = performance.now();
      const layer = await (await fetch(`${server.url}?part=layer`)).json();
      const layerMs = performance.now() - t;
      t = performance.now();
      const network = await (await fetch(`${server.url}?part=network`)).json();
      const networkMs = performance.now() - t;
      t = performance.now();
      const runtime = await (await fetch(`${server.url}?part=runtime`)).json();
      const runtimeMs = performance.now() - t;
      const ms = (x: number) => Math.round(x * 10) / 10;
      record("Cloudflare workerd (wrangler 4.86 build)", { ...layer, ...network, ...runtime }, "import the `.wasm` subpaths, `init({module})`, `loadModel(…, {module})`", {
        workers: false, layerMs: ms(layerMs), networkMs: ms(networkMs), runtimeMs: ms(runtimeMs), note: "ms: HTTP round trip",
      });
    } finally {
      server.stop();
    }
  });

  it("TypeScript accepts the wrangler snippet: the .wasm subpath's types give a WebAssembly.Module", async () => {
    const dir = join(app, "tscheck");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "worker.ts"), `${readmePart(join(snippets, "workerd/worker.js"))}
export default { async fetch(): Promise<Response> { await ready; const r = await pruneLayer(matrix(new Float32Array(4), 2, 2), matrix(new Float32Array(2), 2, 1)); const m = await loadModel(new Uint8Array(0), runtime); return Response.json({ status: r.status, n: pruneNetwork.length, y: m.predict(new Float32Array(1), 1)[0] }); } };\n`);
    for (const [module, moduleResolution] of [["esnext", "bundler"], ["nodenext", "nodenext"]]) {
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
        compilerOptions: { strict: true, target: "es2022", module, moduleResolution, lib: ["es2022", "dom"], types: [], noEmit: true },
        files: ["worker.ts"],
      }));
      const r = await run(bin("tsc"), ["-p", "tsconfig.json"], { cwd: dir });
      expect(r.stdout + r.stderr, moduleResolution).toBe("");
      expect(r.code).toBe(0);
    }
  });

  it("Vercel edge-runtime: .wasm?module + init({module}), bytes refused; parallel mode falls back to this thread", async () => {
    const out = await runEdge(join(app, "vercel/edge.js"));
    record("Vercel edge-runtime 4.0.1", out, "import `.wasm?module` (twice), `init({module})`, `loadModel(…, {module})`", { workers: false });
  });
});

describe("the packed package in headless Chromium, built by each bundler", () => {
  it("Vite build, no configuration: .wasm and worker emitted; 2 module Workers", async () => {
    const dir = join(app, "vite");
    const { build } = await import("vite");
    await build({ root: dir, configFile: false, logLevel: "error", build: { outDir: "dist", emptyOutDir: true } });
    const { url, server } = await serveDir(join(dir, "dist"));
    try {
      record("Chromium + Vite 8 build", await pageResult(browser!, url), "nothing", { workers: true });
    } finally {
      server.close();
    }
  });

  it("Vite dev server, no configuration (no optimizeDeps.exclude needed)", async () => {
    const { createServer } = await import("vite");
    const server = await createServer({ root: join(app, "vite"), configFile: false, logLevel: "error", server: { port: 0, host: "127.0.0.1" } });
    await server.listen();
    try {
      record("Chromium + Vite 8 dev server", await pageResult(browser!, server.resolvedUrls!.local[0]), "nothing", { workers: true });
    } finally {
      await server.close();
    }
  });

  it("webpack 5, default configuration: .wasm and worker emitted; 2 module Workers", async () => {
    const dir = join(app, "webpack");
    const { default: webpack } = await import("webpack");
    const config = (await import(join(dir, "webpack.config.js"))).default;
    const stats = await new Promise<import("webpack").Stats>((resolve, reject) =>
      webpack({ ...config, context: dir }, (e, s) => (e || !s ? reject(e) : resolve(s))));
    const { errors, warnings } = stats.toJson({ all: false, errors: true, warnings: true });
    expect(errors).toEqual([]);
    // The scenario's embedded models (runtime-models.mjs, 340 KB of base64) push the bundle past
    // webpack's 244 KiB performance hint: those hints, and nothing else, are expected.
    expect(warnings!.filter((w) => !/^(asset size limit|entrypoint size limit|webpack performance recommendations)/.test(w.message))).toEqual([]);
    writeFileSync(join(dir, "dist/index.html"), readFileSync(join(snippets, "webpack/index.html")));
    const { url, server } = await serveDir(join(dir, "dist"));
    try {
      record("Chromium + webpack 5.112", await pageResult(browser!, url), "nothing", { workers: true });
    } finally {
      server.close();
    }
  }, 240_000); // production mode minifies the 340 KB of embedded models: over a minute on a loaded 2-core machine

  it("esbuild: the worker as a second entry point, the .wasm by the file loader, init({url})", async () => {
    const dir = join(app, "esbuild");
    const built = await runCommand(COMMANDS.esbuild, dir);
    expect(built.code, built.stderr).toBe(0);
    writeFileSync(join(dir, "dist/index.html"), readFileSync(join(snippets, "esbuild/index.html")));
    const { url, server } = await serveDir(join(dir, "dist"));
    try {
      record("Chromium + esbuild 0.28", await pageResult(browser!, url), "worker entry + `--loader:.wasm=file` + `init({url})`, `loadModel(…, {url})`", { workers: true });
    } finally {
      server.close();
    }
  });
});

describe("README.md quotes what these tests run", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("<!-- runtimes:start -->"), readme.indexOf("<!-- runtimes:end -->"));
  const files = ["node/app.mjs", "deno/main.js", "workerd/worker.js", "vercel/edge.js", "vite/main.js", "esbuild/main.js"];
  it.each(files)("the snippet of %s", (file) => {
    expect(section).toContain(readmePart(join(snippets, file)).trim());
  });
  it.each(["workerd/wrangler.toml", "webpack/webpack.config.js"])("the whole of %s", (file) => {
    expect(section).toContain(readFileSync(join(snippets, file), "utf8").trim());
  });
  it.each(Object.entries(COMMANDS))("the %s command", (_, command) => {
    expect(section).toContain(command);
  });
});
