// The import graph of the TypeScript sources, read with regular expressions (the code base
// writes imports one way: `import … from "…"`, `export … from "…"`, `await import("…")`).
// Used by test/layout.test.ts to check the layout rules, find cycles and unused exports.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  text: string;
  imports: ImportEdge[];
  /** Names this file exports (declarations and re-exports). */
  exports: string[];
}

export interface ImportEdge {
  /** The specifier as written. */
  specifier: string;
  /** Repository-relative path of the imported file, for relative specifiers. */
  target?: string;
  /** Imported names; "*" for a namespace import or a bare side-effect import. */
  names: string[];
  typeOnly: boolean;
}

const FROM = /(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["']([^"']+)["']/gs;
const DYNAMIC = /(?:const|let)\s+(\{[^}]*\})\s*=\s*await\s+import\(\s*["']([^"']+)["']\s*\)|import\(\s*["']([^"']+)["']\s*\)/g;
const SIDE_EFFECT = /^import\s+["']([^"']+)["']/gm;
const DECLARED = /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|interface|type|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;

/** `{ a, type b, c as d }` → the names taken from the module: a, b, c. */
function namesIn(clause: string): string[] {
  const braces = clause.match(/\{([^}]*)\}/);
  const names: string[] = [];
  if (braces) {
    for (const part of braces[1].split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+|\s*:\s*/)[0].trim();
      if (name) names.push(name);
    }
  }
  if (/\*\s+as\s+/.test(clause)) names.push("*");
  const defaultName = clause.replace(/\{[^}]*\}/, "").replace(/\*\s+as\s+\w+/, "").replace(/,/g, "").trim();
  if (defaultName && !defaultName.startsWith("{")) names.push("default");
  return names;
}

function resolveTarget(from: string, specifier: string, root: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const abs = resolve(dirname(join(root, from)), specifier);
  return relative(root, abs).split("\\").join("/");
}

/** Parses one file's imports and exports. */
export function parseSource(path: string, text: string, root = "/"): SourceFile {
  const imports: ImportEdge[] = [];
  const exports: string[] = [];
  for (const m of text.matchAll(FROM)) {
    const [, kind, typeKw, clause, specifier] = m;
    const names = namesIn(clause);
    if (kind === "export") {
      for (const n of names) if (n !== "*") exports.push(n);
      if (clause.trim() === "*") names.push("*");
    }
    imports.push({ specifier, target: resolveTarget(path, specifier, root), names, typeOnly: typeKw !== undefined });
  }
  for (const m of text.matchAll(DYNAMIC)) {
    const specifier = m[2] ?? m[3];
    const names = m[1] ? namesIn(m[1]) : ["*"];
    imports.push({ specifier, target: resolveTarget(path, specifier, root), names, typeOnly: false });
  }
  for (const m of text.matchAll(SIDE_EFFECT)) {
    imports.push({ specifier: m[1], target: resolveTarget(path, m[1], root), names: ["*"], typeOnly: false });
  }
  for (const m of text.matchAll(DECLARED)) exports.push(m[1]);
  return { path, text, imports, exports };
}

/** Every .ts file under the given folders (repository-relative). */
export function readSources(root: string, folders: string[]): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir))) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const rel = `${dir}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(parseSource(rel, readFileSync(join(root, rel), "utf8"), root));
    }
  };
  for (const f of folders) walk(f);
  return out;
}

/** The import cycles among `files` (each as the list of files around it), type imports included. */
export function findCycles(files: SourceFile[]): string[][] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (path: string) => {
    state.set(path, "open");
    stack.push(path);
    for (const edge of byPath.get(path)?.imports ?? []) {
      const t = edge.target;
      if (!t || !byPath.has(t)) continue;
      if (state.get(t) === "open") cycles.push([...stack.slice(stack.indexOf(t)), t]);
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(path, "done");
  };
  for (const f of files) if (!state.has(f.path)) visit(f.path);
  return cycles;
}

/** Exports of `files` that no file in `users` imports by name (or through `*`). */
export function unusedExports(files: SourceFile[], users: SourceFile[]): string[] {
  const used = new Set<string>();
  for (const u of users) {
    for (const edge of u.imports) {
      if (!edge.target) continue;
      for (const n of edge.names) used.add(`${edge.target}#${n}`);
    }
  }
  const out: string[] = [];
  for (const f of files) {
    if (used.has(`${f.path}#*`)) continue;
    for (const name of new Set(f.exports)) if (!used.has(`${f.path}#${name}`)) out.push(`${f.path}#${name}`);
  }
  return out;
}
