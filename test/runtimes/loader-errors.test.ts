// Environment failures are WasmUnavailableErrors that say what was tried and what to do: an
// HTTP error, HTML served for the .wasm, something else than WebAssembly, a runtime that refuses
// to compile bytes (Vercel's edge-runtime with code generation off), no import.meta.url; for the
// solver's module and the sparse runtime's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init, WasmUnavailableError } from "../../bindings/index.ts";
import { root, runEdge } from "./harness.ts";

let server: Server;
let base = "";
const dir = mkdtempSync(join(tmpdir(), "net-trim-loader-"));

beforeAll(async () => {
  const wasm = readFileSync(join(root, "build/net-trim-simd.wasm"));
  server = createServer((req, res) => {
    if (req.url === "/html.wasm") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><html><body>app</body></html>");
    } else if (req.url === "/text.wasm") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end("not wasm at all");
    } else if (req.url === "/ok.wasm") {
      res.writeHead(200, { "content-type": "application/wasm" });
      res.end(wasm);
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<WasmUnavailableError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(WasmUnavailableError);
  expect((e as WasmUnavailableError).code).toBe("wasm_unavailable");
  return e as WasmUnavailableError;
}

describe("WasmUnavailableError messages", () => {
  it("HTTP 404: the URL, the status and the content type", async () => {
    const e = await failure(init({ url: `${base}/missing.wasm` }));
    expect(e.message).toContain(`fetching ${base}/missing.wasm failed: HTTP 404`);
    expect(e.message).toContain("content type text/plain");
  });

  it("HTML served for the .wasm: says so and names Vite's optimizeDeps.exclude", async () => {
    const e = await failure(init({ url: `${base}/html.wasm` }));
    expect(e.message).toContain("HTML was served instead of WebAssembly: with Vite's dev server add net-trim to optimizeDeps.exclude");
    expect(e.message).toContain("3c 21 64 6f");
  });

  it("not WebAssembly: the magic word expected and the bytes found", async () => {
    const e = await failure(init({ url: `${base}/text.wasm` }));
    expect(e.message).toMatch(/expected the magic word 00 61 73 6d, found 6e 6f 74 20/);
  });

  it("a runtime that refuses to compile bytes (edge-runtime, code generation off): import the module and call init({module})", async () => {
    const entry = join(dir, "refuse.js");
    writeFileSync(entry, `import { init } from ${JSON.stringify(join(root, "bindings/index.ts"))};
export default async function handler() {
  try { await init({ url: ${JSON.stringify(`${base}/ok.wasm`)} }); return Response.json({ ok: true }); }
  catch (e) { return Response.json({ name: e.name, code: e.code, message: e.message }); }
}`);
    const out = await runEdge(entry);
    expect(out).toMatchObject({ name: "WasmUnavailableError", code: "wasm_unavailable" });
    expect(out.message).toContain("this runtime refuses to compile WebAssembly from bytes");
    expect(out.message).toContain("import the module and call init({module})");
    expect(out.message).toContain('"net-trim/wasm/net-trim-simd.wasm?module"');
  });

  it("no import.meta.url (an edge bundle) and no init: a WasmUnavailableError, never a TypeError", async () => {
    const entry = join(dir, "noinit.js");
    writeFileSync(entry, `import { pruneLayer, matrix } from ${JSON.stringify(join(root, "bindings/index.ts"))};
export default async function handler() {
  const x = new Float32Array(40).map((_, i) => Math.sin(i)), y = new Float32Array(20).map((_, i) => Math.max(0, Math.cos(i)));
  try { await pruneLayer(matrix(x, 20, 2), matrix(y, 20, 1)); return Response.json({ ok: true }); }
  catch (e) { return Response.json({ name: e.name, code: e.code, message: e.message }); }
}`);
    const out = await runEdge(entry);
    expect(out).toMatchObject({ name: "WasmUnavailableError", code: "wasm_unavailable" });
    expect(out.message).toMatch(/cannot locate net-trim-simd\.wasm: this code has no usable import\.meta\.url/);
    expect(out.message).toContain("init({ module: wasm })");
  });

  it("the sparse runtime likewise: no import.meta.url, or bytes refused, name its own file and loadModel's {module}", async () => {
    const entry = join(dir, "runtime.js");
    writeFileSync(entry, `import { createRuntime, buildGraph } from ${JSON.stringify(join(root, "bindings/index.ts"))};
const graph = buildGraph([{ name: "x", op: "input", inputs: [], shape: [2] }, { name: "d", op: "dense", inputs: ["x"], units: 1, activation: "linear", kernel: new Float32Array(2), bias: null }], ["x"], ["d"]);
const failure = (options) => createRuntime(graph, options).then(() => ({ ok: true }), (e) => ({ name: e.name, code: e.code, message: e.message }));
export default async function handler() {
  return Response.json([await failure({}), await failure({ url: ${JSON.stringify(`${base}/ok.wasm`)} })]);
}`);
    const [packaged, fetched] = await runEdge(entry);
    for (const out of [packaged, fetched]) {
      expect(out).toMatchObject({ name: "WasmUnavailableError", code: "wasm_unavailable" });
      expect(out.message).toContain('"net-trim/wasm/net-trim-runtime.wasm?module"; await loadModel(source, { module: wasm })');
    }
    expect(packaged.message).toMatch(/cannot locate net-trim-runtime\.wasm: this code has no usable import\.meta\.url/);
    expect(fetched.message).toContain("this runtime refuses to compile WebAssembly from bytes");
    expect(fetched.message).toContain("import the module and pass it as {module} to loadModel or createRuntime");
  });
});
