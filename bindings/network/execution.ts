// Where the layers of a parallel prune run: on a worker pool, or in this thread (and why).
import { LIMITS } from "../defaults.ts";
import { boundedInteger } from "../option-checks.ts";
import type { LayerOptions, LayerResult, MatrixInput, ProgressInfo } from "../types.ts";
import { createLayerPool } from "../workers/pool.ts";
import { defaultPoolSize, workerSupport } from "../workers/spawn.ts";
import type { NetworkExecution, PruneMode } from "./types.ts";

/**
 * Pool or this thread. Parallel mode uses min(workers, layers) pool workers (default: the
 * hardware threads) where the runtime has Workers; where it has none (workerd, Vercel Edge) the
 * layers run here, one after another, with the same results, and the reason is reported.
 */
export async function planExecution(mode: PruneMode, density: boolean, requested: number | undefined, L: number): Promise<NetworkExecution> {
  const here = (reason: string): NetworkExecution => ({ workers: 0, inThread: true, reason });
  if (requested !== undefined) boundedInteger(requested, "options.workers", 0, LIMITS.workers);
  if (mode !== "parallel") return here("cascade mode solves the layers in order");
  if (density) return here("the density search runs in one thread");
  if (requested === 0) return here("workers: 0");
  if (L === 1) return here("one layer");
  const missing = workerSupport();
  if (missing) return here(missing);
  const workers = Math.min(requested ?? (await defaultPoolSize()), L);
  return workers > 1 ? { workers, inThread: false } : here(requested === undefined ? "one hardware thread" : `workers: ${requested}`);
}

export async function solveOnPool(
  workers: number, L: number,
  job: (i: number) => { input: MatrixInput; output: MatrixInput; options: LayerOptions },
  hooks: (i: number) => { signal?: AbortSignal; onProgress?: (p: ProgressInfo) => void },
  done: (i: number, r: LayerResult, ms: number) => void,
): Promise<void> {
  // The pool posts the default backend's module (the one init({module | simd}) set) to its workers.
  const pool = await createLayerPool({ size: workers });
  try {
    await Promise.all(
      Array.from({ length: L }, async (_, i) => {
        const started = performance.now();
        const r = await pool.solve(job(i), hooks(i));
        done(i, r, performance.now() - started);
      }),
    );
  } finally {
    await pool.close();
  }
}
