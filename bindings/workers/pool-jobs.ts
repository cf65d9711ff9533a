// A pool job as it is posted: the caller's arrays copied once (or handed over, `detach`) into
// buffers on the transfer list, and checked for what cannot cross to a worker (functions, signals).
import { ValidationError } from "../errors.ts";
import type { LayerOptions, MatrixInput } from "../types.ts";
import type { Tensor } from "../conv-types.ts";
import type { PoolConvOptions, PoolLayerOptions, ToWorker } from "./protocol.ts";

/** One layer to prune: the same arguments as pruneLayer, minus signal and onProgress. */
export interface LayerJob {
  /** [P, N] calibration inputs (copied before it is posted; never modified or detached). */
  input: MatrixInput;
  /** [P, M] layer outputs (copied likewise). */
  output: MatrixInput;
  options?: PoolLayerOptions;
  /**
   * Hand the job's typed arrays over instead of copying them: each one that owns its whole
   * buffer is transferred as it is and is detached (empty) for the caller afterwards. For callers
   * that made the arrays for this job and never read them again. Default false (copied once).
   */
  detach?: boolean;
}

/** One Conv2D or DepthwiseConv2D layer to prune: the arguments of pruneConvLayer, minus signal and onProgress. */
export interface ConvJob {
  /** [samples, H, W, inC] calibration inputs (copied before it is posted, unless `detach`). */
  input: Tensor;
  /** [samples, outH, outW, outC] layer outputs (copied likewise). */
  output: Tensor;
  /** The layer's geometry and solver options (as pruneConvLayer's). */
  options: PoolConvOptions;
  /** As LayerJob's. */
  detach?: boolean;
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;

export type JobMessage = Extract<ToWorker, { type: "solve" | "solveConv" }>;

export interface Prepared {
  message: JobMessage;
  transfer: Transferable[];
}

/**
 * Puts a typed array on the transfer list: a fresh copy (the caller's array is untouched), or
 * with `detach` the array itself when it owns its whole buffer (it is then detached here).
 */
function transferable<T extends Typed>(a: T, transfer: Transferable[], detach: boolean): T {
  const b = a.buffer;
  if (detach && b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength && !transfer.includes(b)) {
    transfer.push(b);
    return a;
  }
  const copy = a.slice() as T;
  transfer.push(copy.buffer as ArrayBuffer);
  return copy;
}

/** A matrix {data, rows, cols} or a tensor {data, shape} with its data made transferable. */
function copyMatrix(m: unknown, transfer: Transferable[], detach: boolean): unknown {
  if (m === null || typeof m !== "object" || Array.isArray(m) || ArrayBuffer.isView(m)) return m; // arrays of rows are cloned; the rest fails validation in the worker
  const { data } = m as { data?: unknown };
  if (data instanceof Float32Array || data instanceof Float64Array) return { ...m, data: transferable(data, transfer, detach) };
  return m;
}

/** The job's options checked (no functions, no signal) with their arrays made transferable. */
function copyOptions<O extends PoolLayerOptions | PoolConvOptions>(o: O | undefined, transfer: Transferable[], detach: boolean): O | undefined {
  if (o !== undefined && (o === null || typeof o !== "object")) throw new ValidationError("job.options", "an object", o);
  if (o && "signal" in o) throw new ValidationError("job.options.signal", "no signal in a pool job: pass it as solve(job, { signal })", (o as LayerOptions).signal);
  if (o && "onProgress" in o) throw new ValidationError("job.options.onProgress", "no callback in a pool job: pass it as solve(job, { onProgress })", (o as LayerOptions).onProgress);
  if (!o) return o;
  const options = { ...o };
  if (o.upperBound !== undefined) options.upperBound = copyMatrix(o.upperBound, transfer, detach) as O["upperBound"];
  const warm = o.warmStart as unknown;
  if (warm && typeof warm === "object") {
    const w = { ...(warm as Record<string, unknown>) };
    for (const k of ["weights", "bias"]) if (w[k] instanceof Float32Array || w[k] instanceof Float64Array) w[k] = transferable(w[k] as Typed, transfer, detach);
    const dual = w.dual;
    if (dual && typeof dual === "object") {
      const d = { ...(dual as Record<string, unknown>) };
      for (const k of ["u1", "u2"]) if (d[k] instanceof Float32Array) d[k] = transferable(d[k] as Float32Array, transfer, detach);
      w.dual = d;
    }
    options.warmStart = w as unknown as O["warmStart"];
  }
  return options;
}

export function prepareJob(job: LayerJob, id: number): Prepared {
  if (job === null || typeof job !== "object") throw new ValidationError("job", "an object {input, output, options?}", job);
  const { input, output, options, transfer } = copyJob(job);
  return {
    message: { type: "solve", id, input: input as MatrixInput, output: output as MatrixInput, options, aborted: false, progress: false },
    transfer,
  };
}

export function prepareConvJob(job: ConvJob, id: number, layer: "conv2d" | "depthwiseConv2d"): Prepared {
  if (job === null || typeof job !== "object") throw new ValidationError("job", "an object {input, output, options}", job);
  // The worker's solver validates everything; options must at least carry the geometry.
  if (job.options === undefined) throw new ValidationError("job.options", "the layer's options (kernelSize at least)", job.options);
  const { input, output, options, transfer } = copyJob(job);
  return {
    message: { type: "solveConv", id, layer, input: input as Tensor, output: output as Tensor, options: options!, aborted: false, progress: false },
    transfer,
  };
}

/** A job's input, output and options copied for posting (or detached when it asks), with the buffers to transfer. */
function copyJob<O extends PoolLayerOptions | PoolConvOptions>(job: { input: unknown; output: unknown; options?: O; detach?: boolean }) {
  const transfer: Transferable[] = [];
  const detach = job.detach === true;
  const options = copyOptions(job.options, transfer, detach);
  return { input: copyMatrix(job.input, transfer, detach), output: copyMatrix(job.output, transfer, detach), options, transfer };
}
