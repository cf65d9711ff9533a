// A minified bundle of the library (esbuild, minify: true, which renames every class): error
// classes keep their names, and an error thrown in a minified worker comes back as the right
// class. Also: the bundle contains no `node:` import for a bundler to resolve (browser platform).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "net-trim-minified-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  // The library and its worker, minified, side by side (the Node worker is spawned from entry.js next to the bundle).
  await build({
    entryPoints: { index: join(root, "bindings/index.ts"), entry: join(root, "bindings/workers/entry.ts") },
    bundle: true, minify: true, format: "esm", platform: "node", outdir: dir, logLevel: "error",
  });
}, 60_000);

describe("minified bundle (esbuild minify: true)", () => {
  it("error classes keep their names though the classes were renamed", async () => {
    const script = join(dir, "names.mjs");
    writeFileSync(script, `
import * as nt from "./index.js";
const made = [
  new nt.ValidationError("options.x", "a number", "y"), new nt.ShapeError("s"), new nt.NonFiniteError("input", 1, 2, NaN),
  new nt.WasmUnavailableError("w"), new nt.OutOfMemoryError("o", 10, 5),
];
console.log(JSON.stringify({ names: made.map((e) => e.name), classNames: made.map((e) => e.constructor.name) }));
`);
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: dir });
    const out = JSON.parse(stdout);
    expect(out.names).toEqual(["ValidationError", "ShapeError", "NonFiniteError", "WasmUnavailableError", "OutOfMemoryError"]);
    // Proof that minification did rename the classes (so the names above do not come from them).
    expect(out.classNames).not.toContain("ValidationError");
  });

  it("an error thrown in a minified worker revives as the same class, name, code and fields", async () => {
    const script = join(dir, "pool.mjs");
    writeFileSync(script, `
import * as nt from "./index.js";
import { readFileSync } from "node:fs";
// The bundle is not next to build/: hand the module over (the pool posts it to its worker).
await nt.init({ module: await WebAssembly.compile(readFileSync(${JSON.stringify(join(root, "build/net-trim-simd.wasm"))})) });
const pool = await nt.createLayerPool({ size: 1 });
const x = new Float32Array(6 * 3).fill(1); x[7] = NaN;
const results = [];
for (const job of [
  { input: nt.matrix(x, 6, 3), output: nt.matrix(new Float32Array(6), 6, 1) },
  { input: nt.matrix(new Float32Array(18), 6, 3), output: nt.matrix(new Float32Array(6), 6, 1), options: { alpha: 5 } },
]) {
  try { await pool.solve(job); results.push(null); }
  catch (e) { results.push({ name: e.name, code: e.code, field: e.field, row: e.row, col: e.col,
    nonFinite: e instanceof nt.NonFiniteError, validation: e instanceof nt.ValidationError, netTrim: e instanceof nt.NetTrimError }); }
}
await pool.close();
console.log(JSON.stringify(results));
`);
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: dir });
    const [nonFinite, validation] = JSON.parse(stdout);
    expect(nonFinite).toEqual({ name: "NonFiniteError", code: "non_finite", field: "input", row: 2, col: 1, nonFinite: true, validation: false, netTrim: true });
    expect(validation).toMatchObject({ name: "ValidationError", code: "invalid_option", field: "options.alpha", validation: true, netTrim: true });
  });

  it("a browser-platform bundle needs no external node: modules and contains no static node: import", async () => {
    const result = await build({
      entryPoints: [join(root, "bindings/index.ts")], bundle: true, format: "esm", platform: "browser",
      write: false, outdir: join(dir, "browser"), logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const js = result.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
    expect(js).not.toMatch(/from\s*["']node:/);
    expect(js).not.toMatch(/import\(\s*["']node:/);
    // One literal new URL(…, import.meta.url) per build, the form Vite, webpack, Rollup and Parcel emit.
    expect(js).toContain('new URL("../../build/net-trim-simd.wasm", import.meta.url)');
    expect(js).toContain('new URL("../../build/net-trim-scalar.wasm", import.meta.url)');
    expect(js).toContain('new URL("../../build/net-trim-simd-threads.wasm", import.meta.url)');
    expect(js).toContain('new URL("../../build/net-trim-runtime.wasm", import.meta.url)');
    expect(js).toContain('new URL("../../build/net-trim-runtime-scalar.wasm", import.meta.url)');
  });
});

describe("revive by code", () => {
  it("a NetTrimError whose class name is unknown (renamed) revives by its code", async () => {
    const { reviveError } = await import("../../bindings/workers/error-transport.ts");
    const { ShapeError, NetTrimError } = await import("../../bindings/errors.ts");
    const e = reviveError({ name: "E", message: "m", code: "shape_mismatch" });
    expect(e).toBeInstanceOf(ShapeError);
    expect(e).toBeInstanceOf(NetTrimError);
    expect((e as InstanceType<typeof ShapeError>).code).toBe("shape_mismatch");
    expect(reviveError({ name: "TypeError", message: "t" })).toBeInstanceOf(TypeError);
    expect(readFileSync(join(root, "bindings/errors.ts"), "utf8")).not.toMatch(/this\.name = new\.target\.name;/);
  });
});
