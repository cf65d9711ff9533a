// The CLI's all-or-nothing writer (cli/atomic-output.ts), driven directly: a file whose contents
// throw midway must leave the target as it was (missing, or with its old files byte for byte), and
// no staging folder behind.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeOutput, writeOutputAtomically, type OutputFile } from "../cli/atomic-output.ts";
import { NetTrimError } from "../bindings/index.ts";

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-atomic-")); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const file = (name: string, text: string): OutputFile => ({ name, contents: () => text });
const failing = (name: string): OutputFile => ({ name, contents: () => { throw new Error(`cannot produce ${name}`); } });
/** Every entry under `dir`, recursively, with the contents of files. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath ?? e.path, e.name);
    out[path.relative(dir, p)] = e.isDirectory() ? "<dir>" : fs.readFileSync(p, "utf8");
  }
  return out;
}

describe("writeOutputAtomically", () => {
  it("creates the missing folders and every file, leaving nothing else", () => {
    const target = path.join(tmp, "a", "b", "out");
    writeOutputAtomically(target, [file("model.json", "{}"), { name: "weights.bin", contents: () => new Uint8Array([1, 2, 3]) }, file("masks.json", "[1]")]);
    expect(tree(tmp)).toEqual({
      a: "<dir>", "a/b": "<dir>", "a/b/out": "<dir>",
      "a/b/out/model.json": "{}", "a/b/out/weights.bin": "\x01\x02\x03", "a/b/out/masks.json": "[1]",
    });
  });

  it("a failure midway into a new folder leaves no folder and no staging entry", () => {
    fs.writeFileSync(path.join(tmp, "other.txt"), "kept");
    const target = path.join(tmp, "a", "out");
    const produced: string[] = [];
    const tracked = (f: OutputFile): OutputFile => ({ name: f.name, contents: () => { produced.push(f.name); return f.contents(); } });
    expect(() => writeOutputAtomically(target, [tracked(file("model.json", "{}")), tracked(file("weights.bin", "w")), tracked(failing("masks.json")), tracked(file("report.json", "r"))]))
      .toThrow("cannot produce masks.json");
    expect(produced).toEqual(["model.json", "weights.bin", "masks.json"]); // it did fail midway
    expect(tree(tmp)).toEqual({ "other.txt": "kept" });
  });

  it("into an existing folder: the new files replace the old, other files stay", () => {
    const target = path.join(tmp, "out");
    fs.mkdirSync(target);
    for (const [n, t] of [["model.json", "old model"], ["weights.bin", "old weights"], ["notes.txt", "mine"]]) fs.writeFileSync(path.join(target, n), t);
    writeOutputAtomically(target, [file("model.json", "new model"), file("weights.bin", "new weights"), file("masks.json", "new masks")]);
    expect(tree(tmp)).toEqual({
      out: "<dir>", "out/model.json": "new model", "out/weights.bin": "new weights", "out/masks.json": "new masks", "out/notes.txt": "mine",
    });
  });

  it("a failure midway into an existing folder leaves the old files byte for byte", () => {
    const target = path.join(tmp, "out");
    fs.mkdirSync(target);
    for (const [n, t] of [["model.json", "old model"], ["weights.bin", "old weights"], ["masks.json", "old masks"], ["notes.txt", "mine"]]) fs.writeFileSync(path.join(target, n), t);
    const before = tree(tmp);
    expect(() => writeOutputAtomically(target, [file("model.json", "new model"), file("weights.bin", "new weights"), failing("masks.json")])).toThrow("cannot produce masks.json");
    expect(tree(tmp)).toEqual(before);
  });

  it("refuses names that are not plain, distinct file names, before writing anything", () => {
    const target = path.join(tmp, "out");
    expect(() => writeOutputAtomically(target, [file("a.json", "1"), file("a.json", "2")])).toThrow("distinct plain file names");
    expect(() => writeOutputAtomically(target, [file("../escape.json", "1")])).toThrow("distinct plain file names");
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it("writeOutput turns a failure into a NetTrimError naming -o/--out and the cause", () => {
    const target = path.join(tmp, "out");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "model.json"), "old model");
    const before = tree(tmp);
    let err: unknown;
    try {
      writeOutput(target, "out/", [file("model.json", "new model"), failing("masks.json")]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetTrimError);
    expect((err as Error).message).toBe("-o/--out out/: the files could not be written (cannot produce masks.json); nothing was changed there");
    expect(tree(tmp)).toEqual(before);
  });
});
