// The script a pool worker runs, in Node (worker_threads) and in browsers (module Worker).
// It receives the compiled module once ({type: "init", module}), instantiates its own Backend
// from it (never recompiling), then solves the jobs it is sent with pruneLayerWith (Dense) or
// pruneConvLayerWith / pruneDepthwiseConvLayerWith (conv, "solveConv"). A cancel
// message aborts the job's AbortController; the solver notices it between check intervals and
// returns status 'aborted'. Protocol types: protocol.ts. A worker sent {type: "thread"} instead
// becomes one thread of a threaded layer solve (wasm/thread-worker.ts) until that solve ends.
import { instantiate, type Backend } from "../wasm/loader.ts";
import { WasmUnavailableError } from "../errors.ts";
import { pruneLayerWith } from "../solver/prune-layer.ts";
import { pruneConvLayerWith } from "../solver/prune-conv-layer.ts";
import { pruneDepthwiseConvLayerWith, type DepthwiseResult } from "../solver/prune-depthwise-layer.ts";
import type { LayerOptions, LayerResult, ProgressInfo } from "../types.ts";
import { serializeError } from "./error-transport.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { importNodeBuiltin } from "../runtime.ts";
import { serveAsThread } from "../wasm/thread-worker.ts";

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

let backend: Promise<Backend> | undefined;
const controllers = new Map<number, AbortController>();

/** The result's own buffers (fresh copies out of the wasm memory), transferred rather than copied again. */
function resultBuffers(r: LayerResult | DepthwiseResult): Transferable[] {
  const layers: Partial<LayerResult>[] = "channels" in r ? [r, ...r.channels] : [r];
  const views = layers.flatMap((l): (ArrayBufferView | undefined)[] => [l.weights, l.bias, l.info?.nnzPerNeuron, l.dual?.u1, l.dual?.u2]);
  const set = new Set<ArrayBuffer>();
  for (const v of views) {
    if (v && v.buffer instanceof ArrayBuffer) set.add(v.buffer);
  }
  return [...set];
}

function handle(message: ToWorker, post: Post): void {
  switch (message.type) {
    case "init": {
      backend = instantiate(message.module);
      backend.then(
        (b) => post({ type: "ready", simd: b.simd }),
        (e) => post({ type: "init_error", error: serializeError(e) }),
      );
      return;
    }
    case "cancel": {
      controllers.get(message.id)?.abort();
      return;
    }
    case "solve": {
      void solve(message, post, (b, hooks) => pruneLayerWith(b, message.input, message.output, { ...message.options, ...hooks }));
      return;
    }
    case "solveConv": {
      const { input, output, options } = message;
      void solve(message, post, (b, hooks) => message.layer === "conv2d"
        ? pruneConvLayerWith(b, input, output, { ...options, ...hooks })
        : pruneDepthwiseConvLayerWith(b, input, output, { ...options, ...hooks }));
      return;
    }
    case "thread": {
      serveAsThread(message.join, () => post({ type: "thread_ready" })).then(
        () => post({ type: "thread_done" }),
        (e) => post({ type: "init_error", error: serializeError(e) }),
      );
      return;
    }
  }
}

type Hooks = Pick<LayerOptions, "signal" | "onProgress">;

async function solve(
  message: { id: number; aborted: boolean; progress: boolean }, post: Post,
  run: (b: Backend, hooks: Hooks) => Promise<LayerResult | DepthwiseResult>,
): Promise<void> {
  const { id } = message;
  const controller = new AbortController();
  if (message.aborted) controller.abort();
  controllers.set(id, controller);
  try {
    if (!backend) throw new WasmUnavailableError("the worker received a job before the compiled module");
    const b = await backend;
    const hooks: Hooks = { signal: controller.signal };
    if (message.progress) hooks.onProgress = (progress: ProgressInfo) => post({ type: "progress", id, progress });
    const result = await run(b, hooks);
    const transfer = resultBuffers(result);
    try {
      post({ type: "result", id, result }, transfer);
    } catch {
      post({ type: "result", id, result });
    }
  } catch (e) {
    post({ type: "error", id, error: serializeError(e) });
  } finally {
    controllers.delete(id);
  }
}

interface WebScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

const scope = globalThis as unknown as Partial<WebScope> & { self?: unknown };
if (typeof scope.self !== "undefined" && typeof scope.postMessage === "function" && typeof scope.addEventListener === "function") {
  // Browser (or Deno/Bun) module worker: listen synchronously, before any await, so no message is missed.
  const web = scope as WebScope;
  const post: Post = (m, transfer = []) => web.postMessage(m, transfer);
  web.addEventListener("message", (event) => handle(event.data as ToWorker, post));
} else {
  // Node worker_threads: parentPort buffers messages until a listener is attached. No top-level
  // await: bundlers build workers as classic scripts by default (Vite: worker.format "iife").
  void (async () => {
    const { parentPort } = await importNodeBuiltin("worker_threads");
    if (!parentPort) throw new Error("net-trim worker-entry must be started as a worker (no parentPort)");
    const port = parentPort;
    const post: Post = (m, transfer = []) => port.postMessage(m, transfer as unknown as Parameters<typeof port.postMessage>[1]);
    port.on("message", (m: ToWorker) => handle(m, post));
  })();
}
