// The command-line tool as plain JavaScript for the tests that spawn it: `node --import tsx` spent
// about a second of CPU per process (and again in each work thread) loading tsx and the sources.
// esbuild bundles the CLI and its two worker entries from the current sources when a test file
// starts (under a second), so a spawn never runs stale code. The files go to
// .test-cli/<hash of the bundle>/: two levels below the repository, so the loaders'
// `../../build/*.wasm` reach build/ and Node finds node_modules as for the sources. The hash names
// the content, so test files running side by side share one copy and never see a half-written one.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";

let built: string | undefined;

/** Path of the bundled cli/net-trim.ts, built once per test process. */
export function cliEntry(root: string): string {
  if (built) return built;
  const out = buildSync({
    absWorkingDir: root,
    // The names the sources look for next to themselves: work-thread.ts starts ./work-entry.js,
    // bindings/workers/spawn.ts starts ./entry.js when they exist.
    entryPoints: { "net-trim": "cli/net-trim.ts", "work-entry": "cli/work-entry.ts", entry: "bindings/workers/entry.ts" },
    bundle: true, platform: "node", format: "esm", target: "node20", packages: "external",
    write: false, outdir: "out", logLevel: "error",
  });
  const hash = createHash("sha256");
  for (const f of out.outputFiles) hash.update(path.basename(f.path)).update(f.contents);
  const dir = path.join(root, ".test-cli", hash.digest("hex").slice(0, 16));
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.mkdirSync(tmp, { recursive: true });
    for (const f of out.outputFiles) fs.writeFileSync(path.join(tmp, path.basename(f.path)), f.contents);
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another test file wrote the same bundle first
    }
  }
  built = path.join(dir, "net-trim.js");
  return built;
}
