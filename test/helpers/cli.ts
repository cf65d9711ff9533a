// The command-line tool run as a child process (cli/net-trim.ts bundled by cli-build.ts), and the
// shape every error must have.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { cliEntry } from "./cli-build.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the CLI; `onStderr` sees stderr as it arrives (with the child, to signal it). */
export function run(args: string[], opts: { env?: Record<string, string>; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    if (!opts.env?.NET_TRIM_DEBUG) delete env.NET_TRIM_DEBUG;
    const child = spawn(process.execPath, [cliEntry(ROOT), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Every error case: one line on stderr, no stack trace, nothing on stdout. */
export function expectOneLineError(r: Run, code: number, ...fragments: string[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^net-trim: /);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const f of fragments) expect(r.stderr).toContain(f);
}
