// pruneLayer with options.threads: one layer's iterations on several threads (the threaded wasm
// engine, wasm/threaded-engine.ts), its helper threads being workers started here (the solver
// itself knows nothing of workers). Where threads cannot run (no SharedArrayBuffer, a page not
// cross-origin isolated, no Worker) the single-thread engine runs and info.threadsReason says why.
import { OutOfMemoryError, WasmUnavailableError } from "../errors.ts";
import { FactorizationError } from "../solver/engine.ts";
import { getBackend } from "../wasm/loader.ts";
import { createEngine } from "../wasm/create-engine.ts";
import { createThreadedEngine, type ThreadJoin, type ThreadLauncher } from "../wasm/threaded-engine.ts";
import { compileThreadedModule, threadsUnavailable } from "../wasm/threaded-loader.ts";
import { pruneLayer as pruneLayerOneThread, solveLayer } from "../solver/prune-layer.ts";
import { resolveOptions } from "../validate.ts";
import type { LayerOptions, LayerResult, MatrixInput } from "../types.ts";
import { reviveError } from "./error-transport.ts";
import type { FromWorker, WorkerHandle } from "./protocol.ts";
import { defaultPoolSize, spawnLayerWorker, workerSupport } from "./spawn.ts";

/** Why a solve with the CG W-update (Dense or conv) runs on one thread. */
export const CG_ONE_THREAD = "the CG W-update runs on one thread (only the factored W-update is split over threads)";

/**
 * Prunes one layer: the sparsest weights (smallest ‖W‖₁) whose response stays within ε of the
 * layer's output. `input` is [P, N] (one row per calibration sample), `output` is [P, M].
 * `options.threads` > 1 runs the iterations on that many threads, with the same result.
 */
export async function pruneLayer(input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  const requested = resolveOptions(options).threads;
  const threads = requested === "auto" ? await defaultPoolSize() : requested;
  if (threads <= 1) return pruneLayerOneThread(input, output, options);
  const why = threadsUnavailable() ?? workerSupport();
  if (why !== undefined) return oneThreadBecause(why, input, output, options);
  let module: WebAssembly.Module;
  try {
    module = await compileThreadedModule();
  } catch (e) {
    if (!(e instanceof WasmUnavailableError)) throw e;
    return oneThreadBecause(`the threaded build could not be loaded: ${e.message}`, input, output, options);
  }
  return solveLayer(input, output, options, async (problem) => {
    if (problem.form === "reduced") {
      return { ...createEngine(await getBackend(), problem), threadsReason: "the reduced form of a linear layer runs on one thread (its iterations do not grow with the samples)" };
    }
    if (problem.wUpdate === "cg") {
      return { ...createEngine(await getBackend(), problem), threadsReason: CG_ONE_THREAD };
    }
    try {
      return await createThreadedEngine(module, problem, threads, workerLauncher());
    } catch (e) {
      // The data's own failures stand; a worker that could not start (e.g. a bundle without
      // net-trim's worker script) leaves the layer to one thread.
      if (e instanceof FactorizationError || e instanceof OutOfMemoryError) throw e;
      const reason = `the helper threads could not start (${e instanceof Error ? e.message : String(e)})`;
      return { ...createEngine(await getBackend(), problem), threadsReason: reason };
    }
  });
}

function oneThreadBecause(reason: string, input: MatrixInput, output: MatrixInput, options?: LayerOptions): Promise<LayerResult> {
  return solveLayer(input, output, options, async (problem) => ({ ...createEngine(await getBackend(), problem), threadsReason: reason }));
}

/** Helper threads as workers running workers/entry, each sent {type: "thread"}. */
export function workerLauncher(): ThreadLauncher {
  let workers: Promise<WorkerHandle>[] = [];
  return {
    spawn(count) {
      workers = Array.from({ length: count }, () => spawnLayerWorker());
      // Failures are reported by join (or dropped by stop).
      for (const w of workers) w.catch(() => undefined);
    },
    async join(joins: ThreadJoin[]) {
      await Promise.all(joins.map(async (join, i) => {
        const worker = await workers[i];
        await new Promise<void>((resolve, reject) => {
          worker.onMessage((m: FromWorker) => {
            if (m.type === "thread_ready") resolve();
            else if (m.type === "init_error") reject(reviveError(m.error));
          });
          worker.onError(reject);
          worker.postMessage({ type: "thread", join });
        });
      }));
    },
    async stop() {
      const started = await Promise.allSettled(workers);
      workers = [];
      await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.terminate() : undefined)));
    },
  };
}
