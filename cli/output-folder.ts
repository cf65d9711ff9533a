// The output folder, checked before any work: it exists and is a folder, or it can be created
// (its nearest existing ancestor is a folder); the folder the files are staged in (the target, or
// that ancestor when the target is missing: see atomic-output.ts) is writable
// (probed by creating and removing an entry: permission bits say nothing for root, read-only
// mounts or ACLs); and it is not on a kernel filesystem (/proc, /sys, /dev), where a recursive
// mkdir can loop forever.
import * as fs from "node:fs";
import * as path from "node:path";
import { NetTrimError } from "../bindings/index.ts";

// statfs(2) magic numbers of kernel pseudo-filesystems (linux/magic.h). devtmpfs (/dev) reports
// tmpfs's number, and a cgroup tree may sit on a tmpfs: the /proc, /sys, /dev prefixes of the real
// path catch those (/dev/shm, an ordinary tmpfs for files, is allowed).
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"], [0x62656572, "sysfs"], [0x27e0eb, "cgroup"], [0x63677270, "cgroup2"],
  [0x1cd1, "devpts"], [0x64626720, "debugfs"], [0x74726163, "tracefs"], [0x73636673, "securityfs"],
  [0x6165676c, "pstore"], [0xcafe4a11, "bpf"], [0x62656570, "configfs"], [0x19800202, "mqueue"],
  [0x42494e4d, "binfmt_misc"], [0xde5e81e4, "efivarfs"], [0xf97cff8c, "selinuxfs"], [0x65735543, "fusectl"],
]);
const SPECIAL_PREFIXES = ["/proc", "/sys", "/dev"];

function refuse(outArg: string, expected: string, received: string): never {
  throw new NetTrimError("invalid_option", `-o/--out ${outArg}: expected ${expected}, received ${received}`);
}

function specialFilesystem(realDir: string): string | undefined {
  const inShm = realDir === "/dev/shm" || realDir.startsWith("/dev/shm/");
  const prefix = SPECIAL_PREFIXES.find((p) => realDir === p || realDir.startsWith(`${p}/`));
  if (prefix && !inShm) return `${prefix} (a kernel filesystem)`;
  let type: number | undefined;
  try {
    type = Number(fs.statfsSync(realDir).type);
  } catch {
    return undefined; // statfs unavailable here: the prefixes above are the check
  }
  const name = PSEUDO_FILESYSTEMS.get(type);
  return name === undefined ? undefined : `a ${name} filesystem (a kernel filesystem)`;
}

/**
 * Checks the output folder and returns its absolute path; throws a NetTrimError naming -o/--out
 * and what is wrong. Leaves nothing behind.
 */
export function checkOutputFolder(outArg: string): string {
  const target = path.resolve(outArg);
  // Walk up to the nearest existing entry.
  let existing = target;
  let stat: fs.Stats | undefined;
  for (;;) {
    try {
      stat = fs.statSync(existing);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") refuse(outArg, "a folder, or a path whose existing part is a folder", `a path through a file (${nearestFile(existing)})`);
      if (code !== "ENOENT") refuse(outArg, "a folder that can be read", `${code}: ${(e as Error).message}`);
      const parent = path.dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  if (!stat) refuse(outArg, "a path on an existing filesystem", "none of its folders exists");
  if (!stat.isDirectory()) {
    refuse(outArg, existing === target ? "a folder" : "a path whose existing part is a folder",
      existing === target ? "an existing file" : `a path through a file (${existing})`);
  }
  const real = fs.realpathSync(existing);
  const special = specialFilesystem(real);
  if (special) refuse(outArg, "a folder on an ordinary filesystem", `a path on ${special}`);
  probeWritable(outArg, existing);
  return target;
}

/** The first existing non-folder on the way from the root to `p` (for the message). */
function nearestFile(p: string): string {
  const parts = path.resolve(p).split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep) || path.sep;
    try {
      if (!fs.statSync(prefix).isDirectory()) return prefix;
    } catch {
      break;
    }
  }
  return p;
}

/** Creates and removes an entry in `dir`: the only test of writability that holds for root too. */
function probeWritable(outArg: string, dir: string): void {
  const probe = path.join(dir, `.net-trim-probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    fs.mkdirSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    refuse(outArg, `a folder this user can write in (${dir})`, `${code} on creating an entry there`);
  }
  fs.rmdirSync(probe);
}
