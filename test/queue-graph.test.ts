// The queue runner, unchanged, on a graph plan: one `net-trim queue work` process on a real
// redis-server solves every node job of the residual test graph (a folded BatchNorm, a depthwise
// node as one job); the merge equals pruneGraph's parallel mode bit for bit.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrunable, pruneGraph } from "../bindings/index.ts";
import { mergeGraphResults, planGraph } from "../bindings/node/files.ts";
import { mixedGraph, samples } from "./helpers/graphs.ts";
import { startCli, startRedis, type RedisServer } from "./helpers/redis.ts";

let tmp: string;
let redis: RedisServer;
const started: ReturnType<typeof startCli>[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-queue-graph-"));
  redis = await startRedis(tmp);
}, 60_000);

afterAll(async () => {
  for (const w of started) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await redis?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("net-trim queue on a graph plan", () => {
  it("solves every node job; the merge equals pruneGraph's parallel mode", async () => {
    const graph = mixedGraph();
    const input = { data: samples(12, 72), shape: [12, 6, 6, 2] };
    const options = { epsilonGain: 0.08, layerOptions: { maxIter: 300 } };
    const work = path.join(tmp, "graph");
    const plan = await planGraph(graph, input, options, work);
    const worker = startCli(["queue", "work", "--redis", redis.url, "--queue", "graphs"]);
    const submit = startCli(["queue", "submit", "--work", work, "--redis", redis.url, "--queue", "graphs", "--wait"]);
    started.push(worker, submit);
    expect(await submit.exited, submit.output()).toBe(0);
    expect(submit.output()).toMatch(new RegExp(`submitted ${plan.jobs} jobs`));
    expect(submit.output()).toMatch(/every layer has a result/);
    worker.child.kill("SIGTERM");
    await worker.exited;

    const merged = await mergeGraphResults(graph, work);
    const inProcess = await pruneGraph(graph, input, { mode: "parallel", workers: 2, ...options });
    const weights = (g: typeof merged.graph) => g.nodes.filter(isPrunable).map((n) => [Buffer.from(n.kernel.buffer, n.kernel.byteOffset, n.kernel.byteLength).toString("hex"), n.bias && Buffer.from(n.bias.buffer, n.bias.byteOffset, n.bias.byteLength).toString("hex")]);
    expect(weights(merged.graph)).toEqual(weights(inProcess.graph));
    expect(merged.outputError).toEqual(inProcess.outputError);
  }, 240_000);
});
