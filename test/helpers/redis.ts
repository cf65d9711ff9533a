// A real redis-server for the queue tests: Debian's package (scripts/test.sh installs it), on
// 127.0.0.1 and a free port, no persistence unless asked; and the CLI as a long-running process,
// under Node (BullMQ's Redis client there is the optional ioredis, a devDependency) or under Bun
// (whose built-in Redis client BullMQ uses).
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { cliEntry } from "./cli-build.ts";
import { ROOT } from "./cli.ts";

const REDIS_SERVER = "/usr/bin/redis-server";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One PING over RESP: true when the server answers PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once("error", () => done(false));
    socket.once("data", (d) => done(d.toString().startsWith("+PONG")));
    socket.write("PING\r\n");
    setTimeout(() => done(false), 1000);
  });
}

export interface RedisServer { port: number; url: string; stop(): Promise<void>; restart(): Promise<void> }

export async function startRedis(dir: string, options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  if (!fs.existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server (scripts/test.sh does it as root)`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", options.appendonly ? "yes" : "no", "--dir", dir], { stdio: "ignore" });
    for (let k = 0; k < 100; k++) {
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => { c.once("exit", () => resolve()); c.kill("SIGTERM"); });
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: async () => { await stop(); await start(); } };
}

const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const CLI = path.join(ROOT, "cli", "net-trim.ts");

/** The CLI under Node (bundled, cli-build.ts) or Bun (the sources), as a long-running process whose output is collected. */
export function startCli(args: string[], runtime: "node" | "bun" = "node"): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [command, entry] = runtime === "bun" ? [BUN, CLI] : [process.execPath, cliEntry(ROOT)];
  const child = spawn(command, [entry, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => { out += d; });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function waitFor(what: string, test: () => boolean, timeoutMs = 120_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
