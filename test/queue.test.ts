// The queue runner on a real redis-server and BullMQ 6.7: worker processes (the CLI under Node with
// ioredis; the Redis-restart case under Bun, whose built-in client BullMQ uses)
// solve a plan's layers; one is SIGKILLed mid-job and BullMQ's stalled-job check hands its job
// to another; Redis restarted without persistence loses the queue and `queue submit --wait`
// submits the lost jobs again. Each time the merge equals in-process parallel mode bit for bit.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { pruneNetwork, type NetworkResult } from "../bindings/index.ts";
import { mergeResults, planNetwork, readLayersModelDir } from "../bindings/node/files.ts";
import { loadQueueModules } from "../bindings/distributed/queue.ts";
import { ROOT } from "./helpers/cli.ts";
import { startCli, startRedis, waitFor, type RedisServer } from "./helpers/redis.ts";

const P = 150; // layer 0 still takes seconds (the kill and the restart land mid-solve), half the time of 300
const network = readLayersModelDir(path.join(ROOT, "models", "mnist-mlp", "model.json")).network;
let tmp: string;
let redis: RedisServer;
let input: { data: Float32Array; rows: number; cols: number };
const started: ReturnType<typeof startCli>[] = [];

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function expectSame(merged: NetworkResult, inProcess: NetworkResult) {
  merged.network.layers.forEach((l, i) => {
    expect(bits(l.kernel).equals(bits(inProcess.network.layers[i].kernel))).toBe(true);
    expect(bits(l.bias).equals(bits(inProcess.network.layers[i].bias))).toBe(true);
  });
  expect(merged.guarantee).toEqual(inProcess.guarantee);
}

/** A worker process with short locks, so that a killed worker's job is stalled within seconds. */
function worker(runtime: "node" | "bun" = "node") {
  const w = startCli(["queue", "work", "--redis", redis.url, "--lock-duration", "2000", "--stalled-interval", "1000"], runtime);
  started.push(w);
  return w;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-queue-"));
  redis = await startRedis(tmp);
  input = { data: loadMnist().trainX.slice(0, P * PIXELS), rows: P, cols: PIXELS };
}, 60_000);

afterAll(async () => {
  for (const w of started) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await redis?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim queue on BullMQ", () => {
  it("a worker SIGKILLed mid-job: its job is stalled and retried by another, the merge equals in-process parallel mode", async () => {
    // Plain ℓ1: these tests are about the queue; the default rounds through plan/solve/merge are cli-jobs' and cli-plan-reweight's.
    const options = { epsilonGain: 0.05, layerOptions: { maxIter: 400, reweight: { rounds: 0 } } };
    const work = path.join(tmp, "killed");
    await planNetwork(network, input, options, work);
    const first = worker();
    const submit = startCli(["queue", "submit", "--work", work, "--redis", redis.url, "--wait"]);
    started.push(submit);
    await waitFor("the first worker to start layer 0", () => /layer 0: job \S+ started/.test(first.output()));
    first.child.kill("SIGKILL");
    const others = [worker(), worker()];
    expect(await submit.exited, submit.output()).toBe(0);
    expect(submit.output()).toMatch(/submitted 3 jobs \(layers 0, 1, 2\)/);
    expect(submit.output()).toMatch(/every layer has a result/);
    expect(first.output()).not.toMatch(/layer 0: job \S+: solved/);
    expect(others.map((w) => w.output()).join("")).toMatch(/layer 0: job \S+: solved/);

    const status = startCli(["queue", "status", "--redis", redis.url, "--json"]);
    expect(await status.exited).toBe(0);
    const jobs = JSON.parse(status.output()) as { layer: number; state: string; work: string; stalledCounter: number }[];
    // Layer 0's job was found stalled once (BullMQ's own check), then completed by another worker.
    expect(jobs.filter((j) => j.work === work).map((j) => [j.layer, j.state, j.stalledCounter])).toEqual([[0, "completed", 1], [1, "completed", 0], [2, "completed", 0]]);
    for (const w of others) w.child.kill("SIGTERM");
    await Promise.all(others.map((w) => w.exited));

    const inProcess = await pruneNetwork(network, input, { mode: "parallel", workers: 2, ...options });
    expectSame(await mergeResults(network, work), inProcess);
  }, 240_000);

  it("Redis restarted without persistence mid-run: the lost jobs are submitted again and every layer is solved", async () => {
    const options = { epsilonGain: 0.04, layerOptions: { maxIter: 400, reweight: { rounds: 0 } } };
    const work = path.join(tmp, "restarted");
    await planNetwork(network, input, options, work);
    const one = worker("bun");
    const submit = startCli(["queue", "submit", "--work", work, "--redis", redis.url, "--wait"], "bun");
    started.push(submit);
    await waitFor("a worker to start layer 0", () => /layer 0: job \S+ started/.test(one.output()));
    await redis.restart(); // the queue (layers 1 and 2 waiting) is gone
    const two = worker("bun");
    expect(await submit.exited, submit.output()).toBe(0);
    expect(submit.output()).toMatch(/the queue had lost layers .*: submitted again/);
    expect(submit.output()).toMatch(/every layer has a result/);
    for (const w of [one, two]) w.child.kill("SIGTERM");
    await Promise.all([one.exited, two.exited]);

    const inProcess = await pruneNetwork(network, input, { mode: "parallel", workers: 2, ...options });
    expectSame(await mergeResults(network, work), inProcess);
  }, 240_000);
});

describe("what to install", () => {
  const missing = (name: string) => Object.assign(new Error(`Cannot find package '${name}' imported from net-trim`), { code: "ERR_MODULE_NOT_FOUND" });

  it("without bullmq: npm install bullmq@6.7.0", async () => {
    await expect(loadQueueModules("redis://127.0.0.1:6379", async (name) => { throw missing(name); }))
      .rejects.toThrow("net-trim queue needs the optional package bullmq, which is not installed: npm install bullmq@6.7.0");
  });

  it("on Node without ioredis: npm install ioredis@5, or Bun", async () => {
    const importer = async (name: string) => {
      if (name === "bullmq") return import("bullmq");
      throw missing(name);
    };
    await expect(loadQueueModules("redis://127.0.0.1:6379", importer))
      .rejects.toThrow(/net-trim queue on Node needs BullMQ's Redis client ioredis, which is not installed: npm install ioredis@5 \(or run the queue commands with Bun/);
  });

  it("a URL that is not redis://", async () => {
    await expect(loadQueueModules("http://127.0.0.1:6379")).rejects.toThrow('--redis: expected a redis:// or rediss:// URL, received "http://127.0.0.1:6379"');
  });
});
