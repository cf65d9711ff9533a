// The layout rules of README's "Layout" section, checked on the import graph of the sources.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findCycles, parseSource, readSources, unusedExports, type SourceFile } from "./helpers/import-graph.ts";

const root = join(import.meta.dirname, "..");
const library = readSources(root, ["bindings"]);
const cli = readSources(root, ["cli"]);
const everyUser = [...library, ...cli, ...readSources(root, ["test", "bench", "examples"])];

/** Imports from a file under `from` into a file under any of `forbidden` are refused. */
const RULES: { from: string; forbidden: string[]; why: string }[] = [
  {
    from: "bindings/solver/",
    forbidden: ["bindings/network/", "bindings/formats/", "bindings/workers/", "bindings/node/", "bindings/reference/"],
    why: "the layer solver knows nothing of networks, files, workers or its own test oracle",
  },
  {
    from: "bindings/wasm/",
    forbidden: ["bindings/network/", "bindings/formats/", "bindings/workers/", "bindings/node/", "bindings/reference/"],
    why: "the wasm engine serves the solver only",
  },
  {
    from: "bindings/formats/",
    forbidden: ["bindings/solver/", "bindings/wasm/", "bindings/reference/", "bindings/workers/"],
    why: "formats read and write models; they do not solve",
  },
  {
    from: "bindings/network/",
    forbidden: ["bindings/formats/", "bindings/wasm/", "bindings/reference/", "bindings/node/"],
    why: "the network part owns the graph type and reaches the solver through solver/ only",
  },
  {
    from: "bindings/reference/",
    forbidden: ["bindings/wasm/", "bindings/network/", "bindings/formats/", "bindings/workers/"],
    why: "the oracle shares nothing with the engine it checks",
  },
  {
    from: "bindings/workers/",
    forbidden: ["bindings/network/", "bindings/formats/", "bindings/reference/", "bindings/node/"],
    why: "the pool runs layer solves; it knows nothing of networks or files",
  },
  {
    from: "bindings/",
    forbidden: ["cli/", "test/", "bench/", "examples/"],
    why: "library code never imports the CLI, tests, benchmarks or examples",
  },
];

/** Exports that nothing imports, kept on purpose. */
const KEPT_EXPORTS: Record<string, string> = {
  "bindings/runtime/loader.ts#RuntimeModuleChoice": "the parameter type of the exported instantiateRuntime and checkModuleChoice, named in their declarations",
  "bindings/network/keep-ladders.ts#RungSolver": "the callback type of the exported withSession, named in its declaration",
};

function violations(files: SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const edge of f.imports) {
      const target = edge.target;
      if (!target) continue;
      for (const rule of RULES) {
        if (!f.path.startsWith(rule.from)) continue;
        const hit = rule.forbidden.find((p) => target.startsWith(p));
        if (hit) out.push(`${f.path} imports ${target}: ${rule.why}`);
      }
    }
  }
  return out;
}

describe("layout rules", () => {
  it("finds the sources", () => {
    expect(library.length).toBeGreaterThan(30);
    expect(library.some((f) => f.path === "bindings/solver/prune-layer.ts")).toBe(true);
  });

  it("no import runs the wrong way between parts", () => {
    expect(violations([...library, ...cli])).toEqual([]);
  });

  it("no import cycle in the library or the CLI (type imports included)", () => {
    expect(findCycles([...library, ...cli]).map((c) => c.join(" → "))).toEqual([]);
  });

  it("only the Node entry (net-trim/node) reaches the per-layer jobs, which read and write files", () => {
    const reaching = library
      .filter((f) => !f.path.startsWith("bindings/distributed/") && f.path !== "bindings/node/files.ts")
      .filter((f) => f.imports.some((e) => e.target?.startsWith("bindings/distributed/")))
      .map((f) => f.path);
    expect(reaching).toEqual([]);
  });

  it("the library never prints", () => {
    const printing = library.filter((f) => /\bconsole\.\w+\(|process\.(stdout|stderr)\.write/.test(f.text)).map((f) => f.path);
    expect(printing).toEqual([]);
  });

  it("every library and CLI file stays under 400 lines, and so does every kernel", () => {
    const kernels = readSources(root, ["assembly"]);
    const long = [...library, ...cli, ...kernels]
      .map((f) => ({ path: f.path, lines: f.text.split("\n").length }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  it("every export is used somewhere (or kept with a reason)", () => {
    // The package's entry points (index.ts, and net-trim/node) export to users, not to other files.
    const entries = ["bindings/index.ts", "bindings/node/files.ts"];
    const candidates = [...library, ...cli].filter((f) => !entries.includes(f.path));
    const unused = unusedExports(candidates, everyUser).filter((e) => !(e in KEPT_EXPORTS));
    expect(unused).toEqual([]);
  });

  it("README's layout section names every folder of bindings/", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Layout"));
    const folders = new Set(library.map((f) => f.path.split("/").slice(0, -1).join("/")).filter((d) => d !== "bindings"));
    for (const folder of folders) expect(section).toContain(`\`${folder.split("/").pop()}/\``);
  });
});

describe("the import-graph reader itself", () => {
  it("reads named, type, namespace, dynamic and re-export imports", () => {
    const f = parseSource("a/x.ts", [
      'import { b, type C, d as e } from "./b.ts";',
      'import type { F } from "../f.ts";',
      'import * as g from "./g.ts";',
      'export { h } from "./h.ts";',
      'const { i } = await import("./i.ts");',
      "export function j() {}",
      "export interface K {}",
    ].join("\n"), "/");
    expect(f.imports.map((e) => [e.target, e.names.join(","), e.typeOnly])).toEqual([
      ["a/b.ts", "b,C,d", false], ["f.ts", "F", true], ["a/g.ts", "*", false], ["a/h.ts", "h", false], ["a/i.ts", "i", false],
    ]);
    expect(f.exports.sort()).toEqual(["K", "h", "j"]);
  });

  it("finds a cycle, and an unused export", () => {
    const a = parseSource("a.ts", 'import { b } from "./b.ts";\nexport const a = 1;\nexport const unused = 2;', "/");
    const b = parseSource("b.ts", 'import { a } from "./a.ts";\nexport const b = 1;', "/");
    expect(findCycles([a, b])).toEqual([["a.ts", "b.ts", "a.ts"]]);
    expect(unusedExports([a, b], [a, b])).toEqual(["a.ts#unused"]);
    expect(violations([parseSource("bindings/solver/x.ts", 'import { n } from "../network/n.ts";', "/")])).toHaveLength(1);
  });
});
