// solveJob: one layer (or graph node) of a plan, anywhere the work folder is reachable. The problem's files are
// checked against the manifest's hashes, the layer is solved on a one-worker pool (the code path
// of pruneNetwork's parallel mode, which also leaves this thread free for heartbeats and queue
// locks), and the result is written atomically: solving the same problem twice writes the same bytes.
import * as os from "node:os";
import type { LayerInfo, ProgressInfo, SolveStatus } from "../types.ts";
import { solveNodeOnPool, type NodeJob } from "../network/graph-solve.ts";
import { npyBytes } from "../formats/npy-write.ts";
import { createLayerPool, type LayerPool, type PoolConvOptions, type PoolLayerOptions } from "../workers/pool.ts";
import {
  encodeInfo, FORMAT_VERSION, isNodeEntry, recordHash, resultRecord, resultTiming, resultWeights, sha256,
  type ResultRecord, type TimingRecord,
} from "./format.ts";
import { layerEntry, readChecked, readManifest } from "./problem.ts";
import { openWorkStore, type WorkLocation } from "./store.ts";

export interface SolveJobOptions {
  onProgress?: (progress: ProgressInfo) => void;
  /** Stops the solve; nothing is written then. */
  signal?: AbortSignal;
  /** A pool to solve on, left open for the next job (solve --until-done, a queue worker). Default: a one-worker pool of its own, closed after. */
  pool?: LayerPool;
}

export interface SolveJobResult {
  layer: number;
  name: string;
  status: SolveStatus;
  /** False when the solve was aborted (nothing written). */
  written: boolean;
  iterations: number;
  wallMs: number;
}

const sum = <K extends string>(a: Record<K, number>[], k: K) => a.reduce((t, x) => t + x[k], 0);

export async function solveJob(work: WorkLocation, layer: number, options: SolveJobOptions = {}): Promise<SolveJobResult> {
  const started = performance.now();
  const store = openWorkStore(work);
  const manifest = await readManifest(store);
  const entry = layerEntry(manifest, layer, store);
  const damaged = "the plan's file was altered or corrupted: plan again (net-trim plan … --force)";
  const x = await readChecked(store, entry.input, damaged);
  const y = await readChecked(store, entry.target, damaged);

  // The pool job in-process parallel mode posts for this layer or node; the arrays were read for it alone (detached).
  const matrix = (data: Float32Array, shape: number[]) => ({ data, rows: shape[0], cols: shape[1] });
  const job: NodeJob = !isNodeEntry(entry) || entry.op === "dense"
    ? { op: "dense", input: matrix(x, entry.input.shape), output: matrix(y, entry.target.shape), options: entry.solverOptions as PoolLayerOptions }
    : { op: entry.op, input: { data: x, shape: entry.input.shape }, output: { data: y, shape: entry.target.shape }, options: entry.solverOptions as PoolConvOptions };
  const pool = options.pool ?? (await createLayerPool({ size: 1 }));
  let r;
  try {
    r = await solveNodeOnPool(pool, job, { signal: options.signal, onProgress: options.onProgress }, true);
  } finally {
    if (!options.pool) await pool.close();
  }
  const base = { layer, name: entry.name, status: r.status, iterations: r.iterations };
  if (r.status === "aborted") return { ...base, written: false, wallMs: performance.now() - started };

  // W̄ = [W; bᵀ]: the kernel's rows (a conv kernel [kh, kw, inC, outC] as [kh·kw·inC, outC]), then the bias as one more row.
  const outputs = entry.target.shape[entry.target.shape.length - 1];
  const shape = [r.weights.length / outputs + 1, outputs];
  const wBar = new Float32Array(r.weights.length + outputs);
  wBar.set(r.weights);
  wBar.set(r.bias, r.weights.length);
  const bytes = npyBytes(wBar, shape);
  const fields: Omit<ResultRecord, "sha256"> = {
    format: "net-trim-result", version: FORMAT_VERSION, layer, name: entry.name, problem: entry.sha256, status: r.status,
    weights: { file: resultWeights(layer), sha256: sha256(bytes), shape },
    ...(r.info ? { info: encodeInfo(r.info) } : {}),
    ...(r.channels ? { channels: r.channels.map(encodeInfo) } : {}),
    ...(isNodeEntry(entry) ? { summary: encodeInfo({ epsilon: r.epsilon, outputError: r.outputError, nnz: r.nnz, iterations: r.iterations }) } : {}),
  };
  const record: ResultRecord = { ...fields, sha256: recordHash(fields) };
  // The weights first, the record last: a record on disk always has its weights beside it.
  await store.write(resultWeights(layer), bytes);
  await store.write(resultRecord(layer), JSON.stringify(record, null, 2) + "\n");
  const wallMs = performance.now() - started;
  const times = (i: LayerInfo) => ({ setupMs: i.setupMs, solveMs: i.solveMs, totalMs: i.totalMs });
  const channels = r.channels?.map(times);
  const timing: TimingRecord = {
    ...(r.info ? times(r.info) : { setupMs: sum(channels!, "setupMs"), solveMs: sum(channels!, "solveMs"), totalMs: sum(channels!, "totalMs") }), wallMs,
    host: os.hostname(), pid: process.pid, finishedAt: new Date().toISOString(), ...(channels ? { channels } : {}),
  };
  await store.write(resultTiming(layer), JSON.stringify(timing, null, 2) + "\n");
  return { ...base, written: true, wallMs };
}
