// The page's side of prune-worker.ts: one long-lived module worker (the wasm is compiled once),
// one run at a time.
import type { NetworkProgress } from "./lib.ts";
import type { FromWorker, PruneOutcome, PruneRequest } from "./protocol.ts";

/** An error thrown in the worker, carried over with its class name (NetTrimError, ShapeError, ...). */
export class WorkerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export class PruneClient {
  private worker: Worker | undefined;
  private pending: { resolve(o: PruneOutcome): void; reject(e: Error): void; onProgress(p: NetworkProgress): void } | undefined;

  private start(): Worker {
    const worker = new Worker(new URL("./prune-worker.ts", import.meta.url), { type: "module" });
    worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const m = event.data;
      if (m.type === "progress") this.pending?.onProgress(m.progress);
      else if (m.type === "result") this.settle((p) => p.resolve(m.outcome));
      else this.settle((p) => p.reject(new WorkerError(m.name, m.message)));
    });
    // A worker that fails to load or throws outside a run: report it and start afresh next time.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.worker = undefined;
      worker.terminate();
      this.settle((p) => p.reject(new Error(`the pruning worker failed: ${event.message || "it could not be loaded"}`)));
    });
    return worker;
  }

  private settle(f: (p: NonNullable<PruneClient["pending"]>) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) f(p);
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  run(request: PruneRequest, onProgress: (p: NetworkProgress) => void): Promise<PruneOutcome> {
    if (this.pending) return Promise.reject(new Error("a pruning run is already going"));
    this.worker ??= this.start();
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onProgress };
      // The samples are copied, not transferred: the page keeps them for the next run.
      worker.postMessage(request);
    });
  }

  /** The worker aborts its AbortController; pruneNetwork then returns with status "aborted". */
  cancel(): void {
    if (this.pending) this.worker?.postMessage({ type: "cancel" });
  }
}
