// A pool of workers that each hold their own instance of ONE compiled WebAssembly.Module and
// solve layers with pruneLayerWith (Dense jobs) or the conv solvers (conv and depthwise jobs). Runtime-neutral: Node worker_threads and browser Workers are
// created by spawn.ts behind the WorkerHandle interface (protocol.ts); no Node built-ins here.
//
// Results are bit-identical to pruneLayer in the main thread: same module, same code, same data.
import { ValidationError, WasmUnavailableError } from "../errors.ts";
import { LIMITS } from "../defaults.ts";
import { boundedInteger, checkOptionNames, checkSignal } from "../option-checks.ts";
import { getModule, isWasmModule } from "../wasm/loader.ts";
import type { LayerResult, ProgressInfo } from "../types.ts";
import type { DepthwiseResult } from "../solver/prune-depthwise-layer.ts";
import { reviveError } from "./error-transport.ts";
import { prepareConvJob, prepareJob, type ConvJob, type JobMessage, type LayerJob, type Prepared } from "./pool-jobs.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "./protocol.ts";
import { defaultPoolSize, spawnLayerWorker, workerSupport } from "./spawn.ts";

export type { PoolConvOptions, PoolLayerOptions } from "./protocol.ts";
export type { ConvJob, LayerJob } from "./pool-jobs.ts";

/** Main-thread hooks of one job. */
export interface SolveHooks {
  /** Called in the main thread with the worker's progress (every `checkInterval` iterations). */
  onProgress?: (progress: ProgressInfo) => void;
  /**
   * Cancels the job. A running solve is asked to stop and resolves with status 'aborted' (and
   * honest info); a job still queued is sent already aborted, as pruneLayer does with an aborted
   * signal. If the worker does not answer within `cancelGraceMs` it is terminated and replaced,
   * and the job rejects with an AbortError.
   */
  signal?: AbortSignal;
}

export interface LayerPool {
  /** The most workers this pool runs at once (workers are started as jobs need them). */
  readonly size: number;
  /** Prunes one layer on a free worker (jobs wait in FIFO order when all are busy). */
  solve(job: LayerJob, hooks?: SolveHooks): Promise<LayerResult>;
  /** Prunes one Conv2D layer (pruneConvLayer) on a free worker, in the same FIFO queue. */
  solveConv(job: ConvJob, hooks?: SolveHooks): Promise<LayerResult>;
  /** Prunes one DepthwiseConv2D layer (pruneDepthwiseConvLayer: its channels one after another) on a free worker. */
  solveDepthwise(job: ConvJob, hooks?: SolveHooks): Promise<DepthwiseResult>;
  /** Terminates every worker; queued and running jobs reject. Idempotent. */
  close(): Promise<void>;
}

export interface LayerPoolOptions {
  /** Most workers at once. Default: the runtime's hardware concurrency; only as many as there are concurrent jobs are started. */
  size?: number;
  /** The compiled net-trim module every worker instantiates. Default: the module of the default backend (the one `init({module})` was given, or `init({simd})` compiled; compiled once on first use). */
  module?: WebAssembly.Module | Promise<WebAssembly.Module>;
  /** How long a cancelled worker has to answer before it is terminated and replaced. Default 2000 ms. */
  cancelGraceMs?: number;
  /** Creates a worker running worker-entry (default: spawnLayerWorker for this runtime). For bundlers that need their own Worker construction, and for tests. */
  spawn?: () => WorkerHandle | Promise<WorkerHandle>;
}

const DEFAULT_CANCEL_GRACE_MS = 2000;

interface Job {
  id: number;
  message: JobMessage;
  transfer: Transferable[];
  hooks: SolveHooks;
  resolve(result: LayerResult | DepthwiseResult): void;
  reject(error: unknown): void;
  slot?: Slot;
  cancelTimer?: ReturnType<typeof setTimeout>;
  detachSignal?: () => void;
  done: boolean;
}

interface Slot {
  handle: WorkerHandle;
  /** The worker answered the init message (its script loaded and the module instantiated). */
  ready?: boolean;
  job?: Job;
  dead: boolean;
}

/**
 * Creates a pool of layer workers sharing one compiled module (posted to each worker, never
 * recompiled). Throws a WasmUnavailableError where the runtime has no workers (workerd, Vercel
 * Edge) unless `spawn` is given.
 */
export async function createLayerPool(options: LayerPoolOptions = {}): Promise<LayerPool> {
  checkPoolOptions(options);
  if (!options.spawn) {
    const why = workerSupport();
    if (why) throw new WasmUnavailableError(`cannot create a worker pool: ${why}. Solve in this thread (pruneLayer, or pruneNetwork with workers: 0).`);
  }
  const size = options.size ?? (await defaultPoolSize());
  const grace = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
  const spawn = options.spawn ?? spawnLayerWorker;
  const module = await (options.module ?? getModule());
  if (!isWasmModule(module)) {
    throw new ValidationError("options.module", "a WebAssembly.Module", module);
  }

  const slots: Slot[] = [];
  const queue: Job[] = [];
  let spawning = 0;
  let nextId = 1;
  let closed = false;

  const finish = (job: Job, settle: () => void) => {
    if (job.done) return;
    job.done = true;
    if (job.cancelTimer !== undefined) clearTimeout(job.cancelTimer);
    job.detachSignal?.();
    const slot = job.slot;
    job.slot = undefined;
    if (slot && slot.job === job) {
      slot.job = undefined;
      if (!slot.dead) slot.handle.unref?.();
    }
    settle();
  };

  const retire = (slot: Slot, error: Error | undefined) => {
    if (slot.dead) return;
    slot.dead = true;
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    const job = slot.job;
    if (job && error) finish(job, () => job.reject(error));
    void slot.handle.terminate().catch(() => undefined);
  };

  const onMessage = (slot: Slot, message: FromWorker) => {
    if (slot.dead) return;
    const job = slot.job;
    switch (message.type) {
      case "ready":
        slot.ready = true;
        return;
      case "init_error":
        // Every job on this worker would fail the same way: fail the current one, replace the worker.
        retire(slot, reviveError(message.error));
        pump();
        return;
      case "progress":
        if (job && job.id === message.id && !job.done) {
          try {
            job.hooks.onProgress?.(message.progress);
          } catch {
            // A throwing callback must not break the pool; the solve continues.
          }
        }
        return;
      case "result":
        if (job && job.id === message.id) finish(job, () => job.resolve(message.result));
        pump();
        return;
      case "error":
        if (job && job.id === message.id) finish(job, () => job.reject(reviveError(message.error)));
        pump();
        return;
    }
  };

  const startWorker = async () => {
    spawning++;
    try {
      const handle = await spawn();
      const slot: Slot = { handle, dead: false };
      handle.onMessage((m) => onMessage(slot, m));
      handle.onError((e) => {
        if (slot.dead) return;
        // Before "ready" the worker could not start at all (script not found, not allowed): an environment failure.
        retire(slot, slot.ready
          ? new Error(`a net-trim worker failed: ${e.message}`, { cause: e })
          : new WasmUnavailableError(`a net-trim worker could not start: ${e.message}`));
        pump();
      });
      if (closed) {
        slot.dead = true;
        await handle.terminate();
        return;
      }
      handle.postMessage({ type: "init", module });
      slots.push(slot);
    } catch (e) {
      // Could not start a worker: the queued jobs cannot run anywhere if no worker is left.
      if (slots.length === 0 && spawning === 1) {
        for (const job of queue.splice(0)) finish(job, () => job.reject(e));
      }
    } finally {
      spawning--;
    }
    pump();
  };

  const dispatch = (slot: Slot, job: Job) => {
    slot.job = job;
    job.slot = slot;
    slot.handle.ref?.();
    if (job.hooks.signal?.aborted) job.message.aborted = true;
    try {
      slot.handle.postMessage(job.message, job.transfer);
    } catch (e) {
      slot.job = undefined;
      job.slot = undefined;
      finish(job, () =>
        job.reject(new ValidationError("job", "data a worker can receive (typed arrays, arrays of numbers, plain option values)", e)),
      );
      slot.handle.unref?.();
      return;
    }
    if (job.message.aborted) startCancel(job);
  };

  function pump() {
    if (closed) return;
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (!slot.dead && !slot.job) dispatch(slot, queue.shift()!);
    }
    const want = Math.min(queue.length, size - slots.length - spawning);
    for (let i = 0; i < want; i++) void startWorker();
  }

  function startCancel(job: Job) {
    if (job.done || job.cancelTimer !== undefined || !job.slot) return;
    const slot = job.slot;
    try {
      slot.handle.postMessage({ type: "cancel", id: job.id });
    } catch {
      // The worker is gone; its error handler settles the job.
    }
    job.cancelTimer = setTimeout(() => {
      job.cancelTimer = undefined;
      if (job.done || job.slot !== slot) return;
      retire(slot, abortError(job.hooks.signal, `the worker did not stop within ${grace} ms of the abort; it was terminated`));
      pump();
    }, grace);
  }

  const submit = <R extends LayerResult | DepthwiseResult>(prepare: (id: number) => Prepared, hooks: SolveHooks): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      if (closed) throw new Error("the layer pool is closed");
      checkHooks(hooks);
      const { message, transfer } = prepare(nextId++);
      message.aborted = hooks.signal?.aborted ?? false;
      message.progress = hooks.onProgress !== undefined;
      const job: Job = { id: message.id, message, transfer, hooks, resolve: resolve as (r: LayerResult | DepthwiseResult) => void, reject, done: false };
      const signal = hooks.signal;
      if (signal) {
        const onAbort = () => {
          if (job.slot) startCancel(job);
          // A queued job is sent with aborted: true when its turn comes.
        };
        signal.addEventListener("abort", onAbort);
        job.detachSignal = () => signal.removeEventListener("abort", onAbort);
      }
      queue.push(job);
      pump();
    });

  const solve = (job: LayerJob, hooks: SolveHooks = {}) => submit<LayerResult>((id) => prepareJob(job, id), hooks);
  const solveConv = (job: ConvJob, hooks: SolveHooks = {}) => submit<LayerResult>((id) => prepareConvJob(job, id, "conv2d"), hooks);
  const solveDepthwise = (job: ConvJob, hooks: SolveHooks = {}) => submit<DepthwiseResult>((id) => prepareConvJob(job, id, "depthwiseConv2d"), hooks);

  const close = async () => {
    if (closed) return;
    closed = true;
    const error = new Error("the layer pool was closed");
    for (const job of queue.splice(0)) finish(job, () => job.reject(error));
    const handles = slots.splice(0).map((slot) => {
      slot.dead = true;
      const job = slot.job;
      if (job) finish(job, () => job.reject(error));
      return slot.handle.terminate().catch(() => undefined);
    });
    await Promise.all(handles);
  };

  return { size, solve, solveConv, solveDepthwise, close };
}

function checkPoolOptions(o: LayerPoolOptions) {
  if (o === null || typeof o !== "object") throw new ValidationError("options", "an object", o);
  checkOptionNames(o, "options", ["size", "module", "cancelGraceMs", "spawn"]);
  if (o.size !== undefined) boundedInteger(o.size, "options.size", 1, LIMITS.workers);
  if (o.cancelGraceMs !== undefined && !(typeof o.cancelGraceMs === "number" && o.cancelGraceMs >= 0 && o.cancelGraceMs <= LIMITS.cancelGraceMs)) {
    throw new ValidationError("options.cancelGraceMs", `a number of ms from 0 to ${LIMITS.cancelGraceMs} (timers fire at once beyond it)`, o.cancelGraceMs);
  }
  if (o.spawn !== undefined && typeof o.spawn !== "function") throw new ValidationError("options.spawn", "a function", o.spawn);
}

function checkHooks(hooks: SolveHooks) {
  if (hooks === null || typeof hooks !== "object") throw new ValidationError("hooks", "an object {onProgress?, signal?}", hooks);
  if (hooks.onProgress !== undefined && typeof hooks.onProgress !== "function") {
    throw new ValidationError("hooks.onProgress", "a function", hooks.onProgress);
  }
  checkSignal(hooks.signal, "hooks.signal");
}

function abortError(signal: AbortSignal | undefined, message: string): Error {
  const e = new Error(message, signal?.reason !== undefined ? { cause: signal.reason } : undefined);
  e.name = "AbortError";
  return e;
}
