// The prune runs on a worker thread so that the main thread stays free for signals: Node runs a
// signal's handler only when the main thread returns to its event loop, and one layer's setup or a
// forward pass can hold it for seconds. With the work elsewhere, Ctrl-C is handled at once.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type {
  DenseNetwork, GraphPruneOptions, GraphResult, ModelGraph, NetworkOptions, NetworkProgress, NetworkResult,
} from "../bindings/index.ts";
import type { SampleMatrix } from "../bindings/node/files.ts";
import type { SerializedError } from "../bindings/workers/protocol.ts";
import { reviveError } from "../bindings/workers/error-transport.ts";

type Hooks = "onProgress" | "signal";
export type WorkJob =
  | { kind: "network"; network: DenseNetwork; calib: SampleMatrix; options: Omit<NetworkOptions, Hooks> }
  | { kind: "graph"; graph: ModelGraph; calib: SampleMatrix; options: Omit<GraphPruneOptions, Hooks> };

export type FromWorkThread =
  | { type: "progress"; progress: NetworkProgress }
  | { type: "done"; result: NetworkResult | GraphResult }
  | { type: "error"; error: SerializedError };

/** work-entry next to this file: the .js of the built package, else the .ts source through tsx. */
function startWorker(): Worker {
  const js = new URL("./work-entry.js", import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  // From the sources (tests, `npx tsx cli/net-trim.ts`): Node 20 does not apply `--import tsx` to
  // workers, so the worker registers tsx's hooks before importing the entry.
  const ts = new URL("./work-entry.ts", import.meta.url);
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(ts.href)}); });`, { eval: true });
}

export function pruneNetworkInWorkThread(job: Extract<WorkJob, { kind: "network" }>, onProgress: (p: NetworkProgress) => void): Promise<NetworkResult> {
  return run(job, onProgress) as Promise<NetworkResult>;
}

export function pruneGraphInWorkThread(job: Extract<WorkJob, { kind: "graph" }>, onProgress: (p: NetworkProgress) => void): Promise<GraphResult> {
  return run(job, onProgress) as Promise<GraphResult>;
}

function run(job: WorkJob, onProgress: (p: NetworkProgress) => void): Promise<NetworkResult | GraphResult> {
  const worker = startWorker();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      f();
    };
    worker.on("message", (m: FromWorkThread) => {
      if (m.type === "progress") onProgress(m.progress);
      else if (m.type === "done") settle(() => resolve(m.result));
      else settle(() => reject(reviveError(m.error)));
    });
    worker.on("error", (e) => settle(() => reject(e)));
    worker.on("exit", (code) => settle(() => reject(new Error(`the work thread stopped (exit code ${code}) before the prune finished`))));
    worker.postMessage(job);
  });
}
