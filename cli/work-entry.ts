// The work thread's side (see work-thread.ts): one pruneNetwork or pruneGraph, its progress and its
// result or error posted back to the main thread.
import { parentPort } from "node:worker_threads";
import { pruneGraph, pruneNetwork } from "../bindings/index.ts";
import { serializeError } from "../bindings/workers/error-transport.ts";
import type { FromWorkThread, WorkJob } from "./work-thread.ts";

const port = parentPort!;
const post = (m: FromWorkThread) => port.postMessage(m);

port.once("message", async (job: WorkJob) => {
  const onProgress: NonNullable<Parameters<typeof pruneNetwork>[2]>["onProgress"] = (progress) => post({ type: "progress", progress });
  try {
    const result = job.kind === "network"
      ? await pruneNetwork(job.network, job.calib, { ...job.options, onProgress })
      : await pruneGraph(job.graph, job.calib, { ...job.options, onProgress });
    post({ type: "done", result });
  } catch (e) {
    post({ type: "error", error: serializeError(e) });
  }
});
