// Where a plan's problems and results live: a folder, given as a path or a file:// URL (a folder
// shared by the machines: NFS, SMB, a mounted volume). Every write is atomic (a temporary file
// in the same folder, then a rename), so a reader never sees half a file, and a claim is an
// exclusive create ('wx'), so of two machines only one gets it.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ValidationError, WorkFolderError } from "../errors.ts";

/** The operations plan, solve and merge need from a store; names are relative, "/"-separated. */
export interface WorkStore {
  /** Where it is, for messages ("/shared/work"). */
  readonly location: string;
  read(name: string): Promise<Uint8Array>;
  exists(name: string): Promise<boolean>;
  /** Writes the whole file or nothing (readers see the old file or the new one). */
  write(name: string, bytes: Uint8Array | string): Promise<void>;
  /** Creates the file only if it does not exist; false when it does. */
  createExclusive(name: string, bytes: string): Promise<boolean>;
  /** Milliseconds since the file was last written or touched; undefined when it does not exist. */
  age(name: string): Promise<number | undefined>;
  touch(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  list(folder: string): Promise<string[]>;
}

/** A store given as a folder path, a file:// URL, or a WorkStore of your own. */
export type WorkLocation = string | URL | WorkStore;

export function openWorkStore(work: WorkLocation): WorkStore {
  if (typeof work === "object" && !(work instanceof URL)) return work;
  let dir: string;
  if (work instanceof URL || /^[a-z][a-z0-9+.-]+:\/\//i.test(work)) {
    const url = work instanceof URL ? work : new URL(work);
    if (url.protocol !== "file:") throw new ValidationError("work", "a folder path or a file:// URL (a folder every machine mounts)", url.href);
    dir = fileURLToPath(url);
  } else {
    if (work.length === 0) throw new ValidationError("work", "a folder path or a file:// URL", work);
    dir = path.resolve(work);
  }
  return folderStore(dir);
}

function folderStore(dir: string): WorkStore {
  const at = (name: string) => path.join(dir, ...name.split("/"));
  return {
    location: dir,
    async read(name) {
      try {
        const b = fs.readFileSync(at(name));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new WorkFolderError(at(name), "an existing file", "no such file");
        throw e;
      }
    },
    async exists(name) {
      return fs.existsSync(at(name));
    },
    async write(name, bytes) {
      const file = at(name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temp = `${file}.tmp-${os.hostname()}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
      try {
        fs.writeFileSync(temp, bytes);
        fs.renameSync(temp, file);
      } catch (e) {
        fs.rmSync(temp, { force: true });
        throw e;
      }
    },
    async createExclusive(name, text) {
      const file = at(name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      let fd: number;
      try {
        fd = fs.openSync(file, "wx");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw e;
      }
      try {
        fs.writeSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      return true;
    },
    async age(name) {
      try {
        return Date.now() - fs.statSync(at(name)).mtimeMs;
      } catch {
        return undefined;
      }
    },
    async touch(name) {
      const now = new Date();
      try {
        fs.utimesSync(at(name), now, now);
      } catch {
        // gone: the claim was removed with the folder
      }
    },
    async remove(name) {
      fs.rmSync(at(name), { force: true, recursive: true });
    },
    async list(folder) {
      try {
        return fs.readdirSync(at(folder));
      } catch {
        return [];
      }
    },
  };
}
