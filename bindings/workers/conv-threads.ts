// pruneConvLayer with options.threads: one conv layer's iterations on several threads (the
// threaded wasm engine in conv mode: the convolution split by output rows, its adjoint by kernel
// rows, the same bits for any thread count). As for Dense layers (layer-threads.ts), where
// threads cannot run one thread runs and info.threadsReason says why.
import { OutOfMemoryError, WasmUnavailableError } from "../errors.ts";
import { FactorizationError } from "../solver/engine.ts";
import { getBackend } from "../wasm/loader.ts";
import { createThreadedEngine } from "../wasm/threaded-engine.ts";
import { compileThreadedModule, threadsUnavailable } from "../wasm/threaded-loader.ts";
import { oneThread, solveConvLayer } from "../solver/prune-conv-layer.ts";
import type { ConvLayerOptions, Tensor } from "../conv-types.ts";
import type { LayerResult } from "../types.ts";
import { CG_ONE_THREAD, workerLauncher } from "./layer-threads.ts";
import { defaultPoolSize, workerSupport } from "./spawn.ts";


/**
 * Prunes one Conv2D layer. `input` is [samples, H, W, inC] (NHWC), `output` the layer's
 * [samples, outH, outW, outC] (Ω = where it is positive). The result's `weights` are the kernel
 * in TF.js layout [kh, kw, inC, outC], `bias` is [outC]; the bias is pruned like a weight.
 * `options.threads` > 1 runs the iterations on that many threads, with the same result.
 */
export async function pruneConvLayer(input: Tensor, output: Tensor, options: ConvLayerOptions): Promise<LayerResult> {
  // An invalid count is refused by solveConvLayer's validation, as every other option.
  const requested = (options as { threads?: unknown } | undefined)?.threads;
  const threads = requested === "auto" ? await defaultPoolSize() : Number.isInteger(requested) ? (requested as number) : 1;
  if (threads <= 1) return solveConvLayer(input, output, options, oneThread(getBackend));
  const why = threadsUnavailable() ?? workerSupport();
  if (why !== undefined) return solveConvLayer(input, output, options, oneThread(getBackend, why));
  let module: WebAssembly.Module;
  try {
    module = await compileThreadedModule();
  } catch (e) {
    if (!(e instanceof WasmUnavailableError)) throw e;
    return solveConvLayer(input, output, options, oneThread(getBackend, `the threaded build could not be loaded: ${e.message}`));
  }
  return solveConvLayer(input, output, options, async (problem, g, wUpdate) => {
    if (wUpdate === "cg") return oneThread(getBackend, CG_ONE_THREAD)(problem, g, wUpdate);
    try {
      return await createThreadedEngine(module, problem, threads, workerLauncher(), g);
    } catch (e) {
      // As for Dense layers: the data's own failures stand; workers that cannot start leave one thread.
      if (e instanceof FactorizationError || e instanceof OutOfMemoryError) throw e;
      const reason = `the helper threads could not start (${e instanceof Error ? e.message : String(e)})`;
      return oneThread(getBackend, reason)(problem, g, wUpdate);
    }
  });
}
