// The command-line tool run as a child process under limits the tests need: another user (to meet
// EACCES when the tests run as root, where permission bits do not apply), a file-size limit
// (ulimit -f: a real write failure late in the run), a time limit (a hang is a failure, not a stuck
// suite), and the time from a signal to the exit.
import { spawn } from "node:child_process";
import { ROOT, type Run } from "./cli.ts";
import { cliEntry } from "./cli-build.ts";

export interface LimitedRun extends Run {
  timedOut: boolean;
  /** Milliseconds from the first signal sent by `signalAfter` to the exit. */
  exitAfterSignalMs?: number;
}

interface Limits {
  uid?: number;
  fileSizeLimitKiB?: number;
  timeoutMs?: number;
  /** Once stderr contains `text`, wait `delayMs`, then send each of `signals`, `gapMs` apart. */
  signalAfter?: { text: string; delayMs: number; signals: NodeJS.Signals[]; gapMs?: number };
}

export function runLimited(args: string[], limits: Limits = {}): Promise<LimitedRun> {
  const cli = [process.execPath, cliEntry(ROOT), ...args];
  // sh applies the limit, then exec replaces it by node: the limit holds for node and its threads.
  const [cmd, ...cmdArgs] = limits.fileSizeLimitKiB === undefined ? cli : ["/bin/sh", "-c", `ulimit -f ${limits.fileSizeLimitKiB} && exec "$0" "$@"`, ...cli];
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...(limits.uid !== undefined ? { HOME: "/tmp" } : {}) };
    delete env.NET_TRIM_DEBUG;
    const child = spawn(cmd, cmdArgs, {
      cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"],
      ...(limits.uid !== undefined ? { uid: limits.uid, gid: limits.uid } : {}),
    });
    let stdout = "", stderr = "", timedOut = false, firstSignalAt: number | undefined, armed = false;
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, limits.timeoutMs ?? 60_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      const s = limits.signalAfter;
      if (s && !armed && stderr.includes(s.text)) {
        armed = true;
        s.signals.forEach((sig, k) => setTimeout(() => {
          firstSignalAt ??= performance.now();
          child.kill(sig);
        }, s.delayMs + k * (s.gapMs ?? 0)));
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, exitAfterSignalMs: firstSignalAt === undefined ? undefined : performance.now() - firstSignalAt });
    });
  });
}
