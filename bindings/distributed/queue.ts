// The queue runner: a plan's layers as BullMQ jobs on Redis. A job carries references (the work
// folder, the layer, the problem's hash), never matrices: problems and results stay in the work
// folder every machine mounts. BullMQ is an optional peer dependency, imported only here, when
// a queue is used. Its Redis client: Bun's built-in one under Bun; ioredis (optional) under Node.
//
// Failures: a worker killed mid-job stops renewing the job's lock; after `lockDuration` BullMQ's
// stalled-job check (every `stalledInterval`, in any live worker) puts the job back in the queue
// and another worker solves it. A failed solve is retried (`attempts`); a job whose problem is not
// the plan's fails at once. Results live in the work folder, not in Redis: if Redis loses the
// queue (restarted without persistence), waitForResults re-submits the jobs of the layers that
// have no result, and the layers already solved are not solved again.
import type * as BullMQ from "bullmq";
import { NetTrimError, WorkFolderError } from "../errors.ts";
import { readManifest, readResult } from "./problem.ts";
import { createLayerPool } from "../workers/pool.ts";
import { solveJob } from "./solve.ts";
import { openWorkStore, type WorkLocation, type WorkStore } from "./store.ts";

interface QueueOptions {
  /** redis://[user:password@]host:port[/db] */
  redis: string;
  /** The BullMQ queue name. Default "net-trim". */
  queue?: string;
}

/** What a job carries: references only. */
interface LayerJobData {
  /** The work folder as the submitter sees it (a worker may be given its own mount of it). */
  work: string;
  layer: number;
  /** The problem's sha256: a worker refuses a job that is not the plan's it finds there. */
  problem: string;
}

type Importer = (name: string) => Promise<unknown>;
const importModule: Importer = (name) => import(name);
const isMissing = (e: unknown) => ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"].includes((e as { code?: string })?.code ?? "") || /Cannot find (module|package)/.test(String((e as Error)?.message));

interface Connected {
  bullmq: typeof BullMQ;
  /** A new Redis connection (BullMQ wants one per Queue and per Worker). */
  connect(): BullMQ.ConnectionOptions;
}

/** bullmq and a Redis client, or an error that says what to install. */
export async function loadQueueModules(redis: string, importer: Importer = importModule): Promise<Connected> {
  let bullmq: typeof BullMQ;
  try {
    bullmq = (await importer("bullmq")) as typeof BullMQ;
  } catch (e) {
    if (isMissing(e)) throw new NetTrimError("invalid_option", "net-trim queue needs the optional package bullmq, which is not installed: npm install bullmq@6.7.0");
    throw e;
  }
  if (!/^rediss?:\/\//.test(redis)) throw new NetTrimError("invalid_option", `--redis: expected a redis:// or rediss:// URL, received ${JSON.stringify(redis)}`);
  const bun = (globalThis as { Bun?: { RedisClient: new (url: string) => unknown } }).Bun;
  if (bun?.RedisClient) {
    return { bullmq, connect: () => bullmq.createBunRedisClient(new bun.RedisClient(redis) as never) as unknown as BullMQ.ConnectionOptions };
  }
  try {
    await importer("ioredis");
  } catch (e) {
    if (isMissing(e)) {
      throw new NetTrimError("invalid_option",
        "net-trim queue on Node needs BullMQ's Redis client ioredis, which is not installed: npm install ioredis@5 (or run the queue commands with Bun, whose built-in Redis client BullMQ uses: bunx net-trim queue …)");
    }
    throw e;
  }
  // Options, not an ioredis instance: BullMQ then owns its connections and closes them with the
  // Queue or Worker (a passed instance counts as shared and stays open, so the process never exits).
  const connection = ioredisOptions(redis);
  return { bullmq, connect: () => ({ ...connection }) };
}

/** redis[s]://[user:password@]host:port[/db] as ioredis options. */
function ioredisOptions(redis: string): BullMQ.ConnectionOptions {
  let url: URL;
  try {
    url = new URL(redis);
  } catch {
    throw new NetTrimError("invalid_option", `--redis: expected a redis://[user:password@]host:port[/db] URL, received ${JSON.stringify(redis)}`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new NetTrimError("invalid_option", `--redis: expected a database number after the port, received ${JSON.stringify(url.pathname.slice(1))}`);
  return {
    host: url.hostname, port: url.port === "" ? 6379 : Number(url.port), db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

const jobId = (layer: number, problem: string) => `layer-${layer}-${problem.slice(0, 16)}`;

async function unsolved(store: WorkStore) {
  const manifest = await readManifest(store);
  const open: number[] = [];
  for (let i = 0; i < manifest.layers.length; i++) {
    if (!(await readResult(store, manifest, i).catch(() => undefined))) open.push(i);
  }
  return { manifest, open };
}

interface SubmitReport {
  /** Layers enqueued now, layers already in the queue, layers with a result already. */
  submitted: number[];
  queued: number[];
  solved: number[];
}

/** Enqueues one job per layer that has no result and no job waiting or running; idempotent. */
export async function submitLayerJobs(work: WorkLocation, options: QueueOptions & { attempts?: number }): Promise<SubmitReport> {
  const store = openWorkStore(work);
  const { manifest, open } = await unsolved(store);
  const { bullmq, connect } = await loadQueueModules(options.redis);
  const queue = new bullmq.Queue<LayerJobData>(options.queue ?? "net-trim", { connection: connect() });
  try {
    return await enqueue(queue, store, manifest.layers.map((l) => l.sha256), open, options.attempts ?? 3);
  } finally {
    await queue.close();
  }
}

async function enqueue(queue: BullMQ.Queue<LayerJobData>, store: WorkStore, problems: string[], open: number[], attempts: number): Promise<SubmitReport> {
  const report: SubmitReport = { submitted: [], queued: [], solved: problems.map((_, i) => i).filter((i) => !open.includes(i)) };
  for (const layer of open) {
    const id = jobId(layer, problems[layer]);
    const existing = await queue.getJob(id);
    const state = existing ? await existing.getState() : "unknown";
    if (["waiting", "active", "delayed", "prioritized", "waiting-children"].includes(state)) {
      report.queued.push(layer);
      continue;
    }
    if (existing) await existing.remove(); // finished, yet no result on disk: run it again
    await queue.add(`layer-${layer}`, { work: store.location, layer, problem: problems[layer] }, { jobId: id, attempts, backoff: { type: "fixed", delay: 1000 } });
    report.submitted.push(layer);
  }
  return report;
}

/**
 * Waits until every layer has a result in the work folder. Every `pollMs` it re-submits the jobs
 * of layers that have neither a result nor a job (a queue lost with Redis) and stops on a job
 * that failed for good, with its reason.
 */
export async function waitForResults(work: WorkLocation, options: QueueOptions & { pollMs?: number; signal?: AbortSignal; onResubmit?: (layers: number[]) => void }): Promise<void> {
  const store = openWorkStore(work);
  const { bullmq, connect } = await loadQueueModules(options.redis);
  const queue = new bullmq.Queue<LayerJobData>(options.queue ?? "net-trim", { connection: connect() });
  queue.on("error", () => undefined); // a Redis restart: the client reconnects; the next poll retries
  try {
    for (;;) {
      if (options.signal?.aborted) throw new NetTrimError("invalid_option", "waiting for the results was interrupted");
      const { manifest, open } = await unsolved(store);
      if (open.length === 0) return;
      try {
        for (const layer of open) {
          const job = await queue.getJob(jobId(layer, manifest.layers[layer].sha256));
          if (job && (await job.getState()) === "failed" && job.attemptsMade >= (job.opts.attempts ?? 1)) {
            throw new NetTrimError("invalid_option", `layer ${layer} ("${manifest.layers[layer].name}") failed after ${job.attemptsMade} attempts: ${job.failedReason}`);
          }
        }
        const again = await enqueue(queue, store, manifest.layers.map((l) => l.sha256), open, 3);
        if (again.submitted.length > 0) options.onResubmit?.(again.submitted);
      } catch (e) {
        if (e instanceof NetTrimError) throw e;
        // Redis unreachable for now: try again at the next poll.
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    }
  } finally {
    await queue.close().catch(() => undefined);
  }
}

interface WorkerOptions extends QueueOptions {
  /** This machine's path (or file:// URL) of the work folder, when it differs from the submitter's. */
  work?: string;
  /** Jobs at once in this process. Default 1. */
  concurrency?: number;
  /** BullMQ's lockDuration (ms): a job whose worker stopped renewing its lock this long is stalled. Default 30,000. */
  lockDuration?: number;
  /** BullMQ's stalledInterval (ms): how often workers look for stalled jobs. Default 30,000. */
  stalledInterval?: number;
  signal?: AbortSignal;
  onEvent?: (event: { type: "active" | "completed" | "failed"; layer: number; message: string }) => void;
}

/** Processes layer jobs until `signal` aborts. */
export async function runQueueWorker(options: WorkerOptions): Promise<void> {
  const { bullmq, connect } = await loadQueueModules(options.redis);
  // One solve thread per concurrent job, kept for the worker's life.
  const pool = await createLayerPool({ size: options.concurrency ?? 1 });
  const worker = new bullmq.Worker<LayerJobData>(options.queue ?? "net-trim", async (job) => {
    const work = options.work ?? job.data.work;
    const store = openWorkStore(work);
    const manifest = await readManifest(store);
    const entry = manifest.layers[job.data.layer];
    if (!entry || entry.sha256 !== job.data.problem) {
      throw new bullmq.UnrecoverableError(new WorkFolderError(`${store.location}/manifest.json`, `the plan of job ${job.id} (problem sha256 ${job.data.problem.slice(0, 12)}…)`, "another plan").message);
    }
    let last = 0;
    const r = await solveJob(store, job.data.layer, {
      pool,
      onProgress: (p) => {
        if (performance.now() - last < 1000) return;
        last = performance.now();
        void job.updateProgress({ iteration: p.iteration, primalResidual: p.primalResidual, dualResidual: p.dualResidual }).catch(() => undefined);
      },
    });
    return { status: r.status, iterations: r.iterations, wallMs: r.wallMs };
  }, {
    connection: connect(), concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDuration ?? 30_000, stalledInterval: options.stalledInterval ?? 30_000,
  });
  const say = options.onEvent ?? (() => undefined);
  worker.on("active", (job) => say({ type: "active", layer: job.data.layer, message: `job ${job.id} started` }));
  worker.on("completed", (job, r: { status: string; iterations: number; wallMs: number }) =>
    say({ type: "completed", layer: job.data.layer, message: `job ${job.id}: ${r.status}, ${r.iterations} iterations, ${(r.wallMs / 1000).toFixed(2)} s` }));
  worker.on("failed", (job, e) => job && say({ type: "failed", layer: job.data.layer, message: `job ${job.id} failed (attempt ${job.attemptsMade}): ${e.message}` }));
  worker.on("error", () => undefined); // connection errors while Redis restarts: the client reconnects
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  await worker.close();
  await pool.close();
}

interface JobStatus {
  id: string;
  layer: number;
  work: string;
  state: string;
  progress: unknown;
  attemptsMade: number;
  /** How often BullMQ found the job stalled (its worker died or stopped renewing the lock). */
  stalledCounter: number;
  failedReason?: string;
}

/** Every job of the queue with its state, progress and failure. */
export async function queueStatus(options: QueueOptions): Promise<JobStatus[]> {
  const { bullmq, connect } = await loadQueueModules(options.redis);
  const queue = new bullmq.Queue<LayerJobData>(options.queue ?? "net-trim", { connection: connect() });
  try {
    const jobs = await queue.getJobs(["active", "waiting", "delayed", "prioritized", "failed", "completed"]);
    const out: JobStatus[] = [];
    for (const job of jobs) {
      if (!job?.id) continue;
      out.push({
        id: job.id, layer: job.data.layer, work: job.data.work, state: await job.getState(), progress: job.progress,
        attemptsMade: job.attemptsMade, stalledCounter: job.stalledCounter ?? 0, ...(job.failedReason ? { failedReason: job.failedReason } : {}),
      });
    }
    return out.sort((a, b) => a.work.localeCompare(b.work) || a.layer - b.layer);
  } finally {
    await queue.close();
  }
}
