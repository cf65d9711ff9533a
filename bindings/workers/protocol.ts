// The messages between the pool (main thread) and a layer worker, and the worker handle the
// pool drives. Types only: both sides import them, neither imports the other.
import type { LayerOptions, LayerResult, MatrixInput, ProgressInfo } from "../types.ts";
import type { ConvLayerOptions, Tensor } from "../conv-types.ts";
import type { DepthwiseResult } from "../solver/prune-depthwise-layer.ts";
import type { ThreadJoin } from "../wasm/threaded-engine.ts";

/** Layer options a pool job carries: everything but the functions and the signal (those stay in the main thread, see SolveHooks). */
export type PoolLayerOptions = Omit<LayerOptions, "signal" | "onProgress">;

/** Conv layer options a pool job carries (geometry included), likewise without functions and signal. */
export type PoolConvOptions = Omit<ConvLayerOptions, "signal" | "onProgress">;

/** A worker as the pool sees it; worker-spawn.ts adapts Node and browser workers to it. */
export interface WorkerHandle {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  /** Registers the message listener (called once). */
  onMessage(listener: (message: FromWorker) => void): void;
  /** Registers the listener for an uncaught error in the worker or its unexpected exit (called once). */
  onError(listener: (error: Error) => void): void;
  /** Ends the worker; resolves when it has stopped. */
  terminate(): Promise<void>;
  /** Node: keep the process alive while the worker is busy (ref) and not while it idles (unref). */
  ref?(): void;
  unref?(): void;
}

/** An error as it crosses the worker boundary: name, code, message and the error's own fields. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  fields?: Record<string, unknown>;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: "init"; module: WebAssembly.Module }
  | {
      type: "solve";
      id: number;
      input: MatrixInput;
      output: MatrixInput;
      options: PoolLayerOptions | undefined;
      /** The job's signal was aborted before it was sent. */
      aborted: boolean;
      /** Whether to post progress messages. */
      progress: boolean;
    }
  /** A Conv2D layer (pruneConvLayer) or a DepthwiseConv2D layer (pruneDepthwiseConvLayer). */
  | {
      type: "solveConv";
      id: number;
      layer: "conv2d" | "depthwiseConv2d";
      input: Tensor;
      output: Tensor;
      options: PoolConvOptions;
      aborted: boolean;
      progress: boolean;
    }
  | { type: "cancel"; id: number }
  /** Join a threaded layer solve (the worker is then that solve's until it ends). */
  | { type: "thread"; join: ThreadJoin };

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready"; simd: boolean }
  | { type: "init_error"; error: SerializedError }
  | { type: "progress"; id: number; progress: ProgressInfo }
  /** A LayerResult (solve, conv2d) or a DepthwiseResult (depthwiseConv2d). */
  | { type: "result"; id: number; result: LayerResult | DepthwiseResult }
  | { type: "error"; id: number; error: SerializedError }
  /** A thread worker has its instance and waits for work; later, it has left the solve. */
  | { type: "thread_ready" }
  | { type: "thread_done" };
