// solveJob: one layer of a plan, anywhere the work folder is reachable. The problem's files are
// checked against the manifest's hashes, the layer is solved on a one-worker pool (the code path
// of pruneNetwork's parallel mode, which also leaves this thread free for heartbeats and queue
// locks), and the result is written atomically: solving the same problem twice writes the same bytes.
import * as os from "node:os";
import type { ProgressInfo, SolveStatus } from "../types.ts";
import { npyBytes } from "../formats/npy-write.ts";
import { createLayerPool, type LayerPool } from "../workers/pool.ts";
import {
  encodeInfo, FORMAT_VERSION, recordHash, resultRecord, resultTiming, resultWeights, sha256,
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

export async function solveJob(work: WorkLocation, layer: number, options: SolveJobOptions = {}): Promise<SolveJobResult> {
  const started = performance.now();
  const store = openWorkStore(work);
  const manifest = await readManifest(store);
  const entry = layerEntry(manifest, layer, store);
  const damaged = "the plan's file was altered or corrupted: plan again (net-trim plan … --force)";
  const x = await readChecked(store, entry.input, damaged);
  const y = await readChecked(store, entry.target, damaged);
  const P = entry.input.shape[0];

  const pool = options.pool ?? (await createLayerPool({ size: 1 }));
  let r;
  try {
    r = await pool.solve(
      { input: { data: x, rows: P, cols: entry.inputs }, output: { data: y, rows: P, cols: entry.units }, options: entry.solverOptions },
      { signal: options.signal, onProgress: options.onProgress },
    );
  } finally {
    if (!options.pool) await pool.close();
  }
  const base = { layer, name: entry.name, status: r.status, iterations: r.info.iterations };
  if (r.status === "aborted") return { ...base, written: false, wallMs: performance.now() - started };

  // W̄ = [W; bᵀ]: the kernel's rows, then the bias as one more row.
  const wBar = new Float32Array((entry.inputs + 1) * entry.units);
  wBar.set(r.weights);
  wBar.set(r.bias, entry.inputs * entry.units);
  const bytes = npyBytes(wBar, [entry.inputs + 1, entry.units]);
  const fields: Omit<ResultRecord, "sha256"> = {
    format: "net-trim-result", version: FORMAT_VERSION, layer, name: entry.name, problem: entry.sha256, status: r.status,
    weights: { file: resultWeights(layer), sha256: sha256(bytes), shape: [entry.inputs + 1, entry.units] },
    info: encodeInfo(r.info),
  };
  const record: ResultRecord = { ...fields, sha256: recordHash(fields) };
  // The weights first, the record last: a record on disk always has its weights beside it.
  await store.write(resultWeights(layer), bytes);
  await store.write(resultRecord(layer), JSON.stringify(record, null, 2) + "\n");
  const wallMs = performance.now() - started;
  const timing: TimingRecord = {
    setupMs: r.info.setupMs, solveMs: r.info.solveMs, totalMs: r.info.totalMs, wallMs,
    host: os.hostname(), pid: process.pid, finishedAt: new Date().toISOString(),
  };
  await store.write(resultTiming(layer), JSON.stringify(timing, null, 2) + "\n");
  return { ...base, written: true, wallMs };
}
