// The threaded engine: the wasm engine of engine.ts on a shared memory, whose iterations run on
// this thread (thread 0) and `threads − 1` workers, each with its own instance of the threaded
// build and its own packing scratch. Setup (Gram, Cholesky, C̃⁻¹) and everything between
// iteration batches (measures, dual bound) stay on this thread. Slabs and sums do not depend on
// the thread count (assembly/admm-threads.ts): the iterates are the single-thread engine's bits.
// A conv layer (conv: its geometry) runs the conv engine the same way, each thread with its own
// gathered blocks: the convolution splits by output rows, its adjoint by kernel rows.
import type { AdmmEngine, LayerProblem } from "../solver/engine.ts";
import type { ConvGeometry } from "../solver/conv-geometry.ts";
import { setUpConvEngine } from "./conv-engine.ts";
import { convBufferSizes } from "./conv-memory-plan.ts";
import { setUpWasmEngine } from "./engine.ts";
import { instantiateShared, mayBlock, sharedMemory } from "./threaded-loader.ts";

/** What a worker needs to join a threaded solve as thread `thread`. */
export interface ThreadJoin {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The control block's address. */
  control: number;
  thread: number;
  gemmScratch: number;
  spmmScratch: number;
  /** The arguments of admmConfigure, repeated on the worker's instance. */
  configure: number[];
  /** A conv layer: the arguments of convConfigure for this thread (its own blocks and scratch). */
  convConfigure?: number[];
}

/** Starts and stops the worker threads (the solver's caller owns workers; this file does not). */
export interface ThreadLauncher {
  /** Starts `count` workers (called first, so that they start while the engine sets up). */
  spawn(count: number): void;
  /** Hands each started worker its join; resolves when every one has its instance and waits for work. */
  join(joins: ThreadJoin[]): Promise<void>;
  /** Ends them; resolves when they are gone. */
  stop(): Promise<void>;
}

export async function createThreadedEngine(
  module: WebAssembly.Module, problem: LayerProblem, threads: number, launcher: ThreadLauncher, conv?: ConvGeometry,
): Promise<AdmmEngine> {
  launcher.spawn(threads - 1);
  try {
    return await setUp(module, problem, threads, launcher, conv);
  } catch (e) {
    await launcher.stop();
    throw e;
  }
}

async function setUp(
  module: WebAssembly.Module, problem: LayerProblem, threads: number, launcher: ThreadLauncher, conv: ConvGeometry | undefined,
): Promise<AdmmEngine> {
  const memory = sharedMemory();
  const backend = await instantiateShared(module, memory);
  const ex = backend.exports;
  const gemmBytes = ex.gemmScratchBytes();
  const spmmBytes = problem.sparse ? ex.spmmScratchBytes(Math.max(problem.P, problem.N + 1)) : 0;
  // A conv thread's gathered blocks, sized as the solve's own (the W-update is factored: CG runs on one thread).
  const blocks = conv ? convBufferSizes(conv, false, 0, ex.convBlockRows(problem.N + 1), "factored", 0) : undefined;
  const extra: Record<string, number> = { control: ex.threadControlBytes() };
  for (let t = 1; t < threads; t++) {
    extra[`gemmScratch${t}`] = gemmBytes;
    extra[`spmmScratch${t}`] = spmmBytes;
    if (blocks) Object.assign(extra, { [`patch${t}`]: blocks.patch, [`patchT${t}`]: blocks.patchT });
  }
  const { engine, offsets, configure, convConfigure } = conv
    ? setUpConvEngine(backend, problem, conv, "factored", extra)
    : { ...setUpWasmEngine(backend, problem, extra), convConfigure: undefined };
  const control = offsets.control;
  const joins: ThreadJoin[] = [];
  for (let t = 1; t < threads; t++) {
    const gemmScratch = offsets[`gemmScratch${t}`];
    joins.push({
      module, memory, control, thread: t, gemmScratch, spmmScratch: offsets[`spmmScratch${t}`], configure,
      ...(convConfigure ? { convConfigure: [...convConfigure.slice(0, -3), offsets[`patch${t}`], offsets[`patchT${t}`], gemmScratch] } : {}),
    });
  }
  await launcher.join(joins);
  const wait = mayBlock() ? 1 : 0;
  let stopped: Promise<void> | undefined;
  return {
    ...engine,
    threads,
    iterate(count, stats) {
      ex.admmPublishState(ex.threadStatePointer(control));
      ex.threadPost(control, 0, count, stats ? 1 : 0, threads);
      ex.admmRunThread(control, 0, offsets.scratch, offsets.spmmScratch ?? 0, wait);
    },
    dispose() {
      stopped ??= (async () => {
        ex.threadPost(control, 1, 0, 0, threads);
        await launcher.stop();
      })();
      return stopped;
    },
  };
}
