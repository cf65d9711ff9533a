// The output files, all or nothing. Every file is first written into a staging folder on the same
// filesystem, then moved into place by rename(2), which is atomic there:
//   - a new output folder is staged beside its highest missing folder and appears with one
//     rename, files and all;
//   - into an existing folder (--force, or a folder holding other files), each file is renamed
//     over its old version after the old one was moved aside into the staging folder; an error
//     in that run of renames moves everything back, so the folder holds either all the new files
//     or all the old ones. Other files in the folder are left alone.
// On any error the staging folder is removed. The renames are one synchronous run: no signal
// handler can run between them (only SIGKILL or a power cut could, leaving the staging folder,
// named .net-trim-tmp-<pid>-<random>).
import * as fs from "node:fs";
import * as path from "node:path";
import { NetTrimError } from "../bindings/index.ts";

export interface OutputFile {
  /** The file's name inside the output folder. */
  name: string;
  /** Its contents, produced when it is written (a throw here is a failure like any other). */
  contents: () => string | Uint8Array;
}

function stagingName(): string {
  return `.net-trim-tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

function writeAll(dir: string, files: readonly OutputFile[]): void {
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.contents(), { flag: "wx" });
}

/** Writes `files` into the folder `target` (created if missing): all of them, or (on a throw) none. */
export function writeOutputAtomically(target: string, files: readonly OutputFile[]): void {
  const names = new Set(files.map((f) => f.name));
  if (names.size !== files.length || files.some((f) => f.name !== path.basename(f.name) || f.name.startsWith(".net-trim-tmp-"))) {
    throw new Error(`output files: expected distinct plain file names, received ${files.map((f) => f.name).join(", ")}`);
  }
  if (fs.existsSync(target)) replaceFiles(target, files);
  else createFolder(target, files);
}

function createFolder(target: string, files: readonly OutputFile[]): void {
  // The highest missing folder on the way to the target: it is the one that appears by rename.
  let top = target;
  while (!fs.existsSync(path.dirname(top))) top = path.dirname(top);
  const stage = path.join(path.dirname(top), stagingName());
  try {
    fs.mkdirSync(stage);
    const inner = path.join(stage, path.relative(top, target));
    fs.mkdirSync(inner, { recursive: true });
    writeAll(inner, files);
    fs.renameSync(stage, top);
  } catch (e) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw e;
  }
}

function replaceFiles(target: string, files: readonly OutputFile[]): void {
  const stage = path.join(target, stagingName());
  const previous = path.join(stage, ".previous");
  const movedAside: string[] = [];
  const movedIn: string[] = [];
  try {
    fs.mkdirSync(stage);
    fs.mkdirSync(previous);
    writeAll(stage, files);
    for (const { name } of files) {
      if (exists(path.join(target, name))) {
        fs.renameSync(path.join(target, name), path.join(previous, name));
        movedAside.push(name);
      }
      fs.renameSync(path.join(stage, name), path.join(target, name));
      movedIn.push(name);
    }
  } catch (e) {
    // Back to the old files: the new ones out, the old ones back in.
    for (const name of movedIn.reverse()) fs.rmSync(path.join(target, name), { force: true });
    for (const name of movedAside) fs.renameSync(path.join(previous, name), path.join(target, name));
    fs.rmSync(stage, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(stage, { recursive: true, force: true }); // the old files
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** writeOutputAtomically for the command: a failure is a one-line error naming -o/--out. */
export function writeOutput(target: string, outArg: string, files: readonly OutputFile[]): void {
  try {
    writeOutputAtomically(target, files);
  } catch (e) {
    if (e instanceof NetTrimError) throw e;
    const err = e as NodeJS.ErrnoException;
    const what = err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
    throw new NetTrimError("invalid_option", `-o/--out ${outArg}: the files could not be written (${what}); nothing was changed there`);
  }
}
