// solve --next: the first layer that has no result and that nobody holds, taken by an exclusive
// create in the work folder, so that any number of machines can share one plan without a
// scheduler. A claim is kept alive by touching its file; one not touched for `staleAfterMs`
// (its solver died) is overridden by creating the next claim file claims/layer-<i>.<n+1>,
// again exclusively, so of several machines that find it stale only one takes over. Should a
// slow machine come back and finish too, nothing is lost: the same problem gives the same bytes,
// and results are written atomically.
import * as os from "node:os";
import { readManifest, readResult } from "./problem.ts";
import { solveJob, type SolveJobOptions, type SolveJobResult } from "./solve.ts";
import { openWorkStore, type WorkLocation, type WorkStore } from "./store.ts";

export interface ClaimOptions extends SolveJobOptions {
  /** A claim not touched for this long is taken over. Default 60,000 ms; it is touched every quarter of it. */
  staleAfterMs?: number;
}

const DEFAULT_STALE_AFTER_MS = 60_000;

/** Takes layer `layer` unless it is held; the returned function stops the heartbeat. */
async function claimLayer(store: WorkStore, layer: number, staleAfterMs: number): Promise<(() => void) | undefined> {
  const owner = JSON.stringify({ host: os.hostname(), pid: process.pid, at: new Date().toISOString() });
  for (let n = 0; ; n++) {
    const name = `claims/layer-${layer}.${n}`;
    if (await store.createExclusive(name, owner)) {
      const beat = setInterval(() => void store.touch(name), Math.max(1, staleAfterMs / 4));
      beat.unref?.();
      return () => clearInterval(beat);
    }
    const age = await store.age(name);
    if (age !== undefined && age < staleAfterMs) return undefined; // held, and alive
  }
}

/**
 * Solves the first layer without a result that no live claim holds; undefined when there is none
 * left. A result of another problem in the folder counts as no result (it is solved again).
 */
export async function solveNext(work: WorkLocation, options: ClaimOptions = {}): Promise<SolveJobResult | undefined> {
  const store = openWorkStore(work);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const manifest = await readManifest(store);
  for (let i = 0; i < manifest.layers.length; i++) {
    const done = await readResult(store, manifest, i).catch(() => undefined);
    if (done) continue;
    const release = await claimLayer(store, i, staleAfterMs);
    if (!release) continue;
    try {
      return await solveJob(store, i, options);
    } finally {
      release();
    }
  }
  return undefined;
}
