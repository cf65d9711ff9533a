// createRuntime: a model graph compiled once into the runtime's wasm memory (each Dense/conv
// node's weights packed sparse or dense, see pack-weights.ts), then predict(input, batch) runs
// the nodes in the graph's order on buffers in that memory. The memory a batch needs is computed
// before growing; a request past the limit is refused with the numbers.
import { OutOfMemoryError, ShapeError, ValidationError } from "../errors.ts";
import { applyActivation } from "../network/graph/activations.ts";
import { sizeOf, window1D } from "../network/graph/shapes.ts";
import { isPrunable, type GraphNode, type ModelGraph, type Padding2D, type Pair } from "../network/graph/types.ts";
import type { KernelChoice } from "./break-even.ts";
import { runJsOp } from "./js-ops.ts";
import { checkModuleChoice, instantiateRuntime, type RuntimeKernels } from "./loader.ts";
import { planLayer, writePacked, type PackedLayer } from "./pack-weights.ts";

export interface RuntimeOptions {
  /** "auto" (default): per layer, sparse below the measured break-even density, else dense; or force one. */
  kernels?: KernelChoice;
  /** A compiled runtime module (the default import of `net-trim/wasm/net-trim-runtime.wasm`), for runtimes that cannot compile bytes. */
  module?: WebAssembly.Module;
  /** Instead of `module`: where to fetch the runtime build (esbuild's file loader gives this URL as the default import of `net-trim/wasm/net-trim-runtime.wasm`). */
  url?: string | URL;
  /** Without `module` or `url`: the SIMD (true) or scalar (false) build; default "auto" (SIMD when WebAssembly.validate accepts it). */
  simd?: boolean | "auto";
  /** Most wasm memory the runtime may use, in bytes (default and cap: 4 GiB, what wasm32 addresses). */
  maxMemoryBytes?: number;
}

export interface RuntimeLayer {
  name: string;
  op: "dense" | "conv2d" | "depthwiseConv2d";
  kernel: "sparse" | "dense";
  /** Kernel nonzeros / kernel weights. */
  density: number;
  /** Bytes its weights take in wasm memory. */
  bytes: number;
}

export interface SparseRuntime {
  /** The first graph output for `batch` samples, [batch, ...shape] row-major (NHWC); input likewise (one array per graph input). */
  predict(input: Float32Array | readonly Float32Array[], batch: number): Float32Array;
  /** Every graph output. */
  predictAll(input: Float32Array | readonly Float32Array[], batch: number): Float32Array[];
  /** The kernel each Dense/conv node runs, its density and its weights' bytes. */
  readonly layers: readonly RuntimeLayer[];
  /** Whether the SIMD build runs (false: the scalar build, same outputs bit for bit). */
  readonly simd: boolean;
  /** Bytes of wasm memory a call with `batch` samples needs (weights + activations of up to 16 samples at a time). */
  memoryBytes(batch: number): number;
  /** Releases the wasm instance; later calls throw. */
  dispose(): void;
}

const WASM32_BYTES = 65536 * 65536;
const PAGE = 65536;
const align16 = (x: number) => (x + 15) & ~15;
/**
 * Samples run through the graph together: larger batches go in chunks of this many, so that a
 * layer's activations stay in cache (the CNN at batch 256 ran 2.9× slower per sample unchunked).
 * Each sample's arithmetic does not depend on the chunk: the same bits at any batch size.
 */
const CHUNK = 16;
const ALIASES = new Set(["flatten", "reshape", "identity"]);
const WASM_ACTIVATIONS: Record<string, number> = { relu: 1, relu6: 2 };
const OPTION_NAMES = ["kernels", "module", "url", "simd", "maxMemoryBytes"];

function checkOptions(options: RuntimeOptions): Required<Pick<RuntimeOptions, "kernels" | "maxMemoryBytes">> {
  if (options === null || typeof options !== "object") throw new ValidationError("options", "an object {kernels?, module?, url?, simd?, maxMemoryBytes?}", options);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new ValidationError(`options.${key}`, `one of ${OPTION_NAMES.join(", ")}`, key);
  }
  checkModuleChoice(options);
  const kernels = options.kernels ?? "auto";
  if (!["auto", "sparse", "dense"].includes(kernels)) throw new ValidationError("options.kernels", '"auto", "sparse" or "dense"', kernels);
  const maxMemoryBytes = options.maxMemoryBytes ?? WASM32_BYTES;
  if (typeof maxMemoryBytes !== "number" || !Number.isInteger(maxMemoryBytes) || maxMemoryBytes <= 0 || maxMemoryBytes > WASM32_BYTES) {
    throw new ValidationError("options.maxMemoryBytes", `an integer in [1, ${WASM32_BYTES}]`, maxMemoryBytes);
  }
  return { kernels, maxMemoryBytes };
}

/** Top and left padding of a window over `input` cells. */
function padBefore(input: number, k: number, s: number, d: number, padding: Padding2D): number {
  return window1D(input, k, s, d, padding).padBefore;
}

/** Compiles `graph` for the runtime. The graph is not modified and not kept: weights are copied once into wasm memory. */
export async function createRuntime(graph: ModelGraph, options: RuntimeOptions = {}): Promise<SparseRuntime> {
  const { kernels, maxMemoryBytes } = checkOptions(options);
  if (!graph || !Array.isArray(graph.nodes)) throw new ValidationError("graph", "a ModelGraph (from parseLayersModelGraph, parseOnnxModel or buildGraph)", graph);
  const nodes: GraphNode[] = graph.nodes;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const packed = new Map<string, PackedLayer>();
  for (const n of nodes) if (isPrunable(n)) packed.set(n.name, planLayer(n, kernels));
  const k: RuntimeKernels = await instantiateRuntime(options);
  const base = align16(k.heapBase());
  let weightBytes = 0;
  for (const l of packed.values()) weightBytes += l.bytes;
  const activationBase = base + weightBytes;
  // Per sample: each node's buffer (aliasing ops share their input's).
  const perSample = nodes.reduce((a, n) => a + (ALIASES.has(n.op) ? 0 : align16(sizeOf(n) * 4)), 0);
  // One scratch region for the sparse Conv2D kernel (one sample's padded planes), after the activations.
  const planes = new Map<string, { hp: number; wp: number }>();
  let scratchBytes = 0;
  for (const l of packed.values()) {
    const n = l.node;
    if (n.op !== "conv2d" || l.kernel !== "sparse") continue;
    const [h, w, c] = byName.get(n.inputs[0])!.shape, [oh, ow] = n.shape;
    const pt = padBefore(h, n.kernelSize[0], n.strides[0], n.dilation[0], n.padding), pl = padBefore(w, n.kernelSize[1], n.strides[1], n.dilation[1], n.padding);
    const hp = Math.max(h + pt, (oh - 1) * n.strides[0] + (n.kernelSize[0] - 1) * n.dilation[0] + 1);
    const wp = Math.max(w + pl, (ow - 1) * n.strides[1] + (n.kernelSize[1] - 1) * n.dilation[1] + 1);
    planes.set(n.name, { hp, wp });
    scratchBytes = Math.max(scratchBytes, align16(4 * (c * hp * wp + 8)));
  }
  const activationBytes = (batch: number) => nodes.reduce((a, n) => a + (ALIASES.has(n.op) ? 0 : align16(batch * sizeOf(n) * 4)), 0);
  const memoryBytes = (batch: number) => activationBase + activationBytes(batch) + scratchBytes;
  const ensure = (bytes: number, what: string) => {
    if (bytes > maxMemoryBytes) throw new OutOfMemoryError(what, bytes, maxMemoryBytes);
    const have = k.memory.buffer.byteLength;
    if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / PAGE));
  };
  ensure(activationBase, `the runtime's weights (${packed.size} layers)`);
  let at = base;
  for (const l of packed.values()) {
    writePacked(l, k.memory.buffer, at);
    at += l.bytes;
  }
  let disposed = false;

  function run(input: Float32Array | readonly Float32Array[], batch: number): Float32Array[] {
    if (disposed) throw new ValidationError("runtime", "a runtime not disposed", "disposed");
    if (!Number.isInteger(batch) || batch < 1) throw new ValidationError("batch", "a positive integer", batch);
    const inputs = input instanceof Float32Array ? [input] : input;
    if (!Array.isArray(inputs) || inputs.length !== graph.inputs.length) {
      throw new ValidationError("input", `${graph.inputs.length} Float32Array (one per graph input: ${graph.inputs.join(", ")})`, input);
    }
    const inputSizes = graph.inputs.map((name, i) => {
      const n = byName.get(name)!, data = inputs[i];
      if (!(data instanceof Float32Array) || data.length !== batch * sizeOf(n)) {
        throw new ShapeError(`input ${i} ("${n.name}") has ${data instanceof Float32Array ? `length ${data.length}` : "no Float32Array"}: expected batch × ${sizeOf(n)} (shape [${n.shape.join(", ")}]) = ${batch * sizeOf(n)}`);
      }
      return sizeOf(n);
    });
    ensure(memoryBytes(Math.min(batch, CHUNK)), `predict with batch ${batch} (${perSample} bytes of activations per sample, ${Math.min(batch, CHUNK)} samples at a time)`);
    if (batch <= CHUNK) return runChunk(inputs, batch).map((v) => v.slice());
    const outputs = graph.outputs.map((o) => new Float32Array(batch * sizeOf(byName.get(o)!)));
    for (let start = 0; start < batch; start += CHUNK) {
      const rows = Math.min(CHUNK, batch - start);
      const parts = runChunk(inputs.map((x, i) => x.subarray(start * inputSizes[i], (start + rows) * inputSizes[i])), rows);
      parts.forEach((part, o) => outputs[o].set(part, start * (part.length / rows)));
    }
    return outputs;
  }

  type Step = (heap: ArrayBuffer, inputs: readonly Float32Array[]) => void;
  interface ChunkPlan { steps: Step[]; outputs: { at: number; length: number }[] }
  const plans = new Map<number, ChunkPlan>();

  /**
   * The calls that run `batch` (≤ CHUNK) samples, with every buffer address and argument worked
   * out once per chunk size: a predict call only runs them.
   */
  function planChunk(batch: number): ChunkPlan {
    const scratch = activationBase + activationBytes(batch);
    const addr = new Map<string, number>();
    const steps: Step[] = [];
    let free = activationBase;
    const view = (heap: ArrayBuffer, name: string) => new Float32Array(heap, addr.get(name)!, batch * sizeOf(byName.get(name)!));
    for (const n of nodes) {
      if (ALIASES.has(n.op)) { addr.set(n.name, addr.get(n.inputs[0])!); continue; }
      const out = free;
      const size = batch * sizeOf(n);
      free += align16(size * 4);
      addr.set(n.name, out);
      const x = addr.get(n.inputs[0]) ?? 0;
      const inShape = n.inputs.length ? byName.get(n.inputs[0])!.shape : [];
      let activationDone = false;
      switch (n.op) {
        case "input": {
          const i = graph.inputs.indexOf(n.name);
          steps.push((heap, inputs) => new Float32Array(heap, out, size).set(inputs[i]));
          break;
        }
        case "dense": {
          const l = packed.get(n.name)!;
          const vectors = size / n.units;
          if (l.kernel === "sparse") steps.push(() => k.sparseLayer(vectors, l.rows, n.units, x, l.rowPtr, l.offsets, l.vals, l.bias, out));
          else steps.push(() => k.denseLayer(vectors, l.rows, n.units, x, l.dense, l.bias, out));
          break;
        }
        case "conv2d":
        case "depthwiseConv2d": {
          const l = packed.get(n.name)!;
          const [h, w, c] = inShape, [oh, ow, f] = n.shape;
          const [kh, kw] = n.kernelSize as Pair, [sh, sw] = n.strides as Pair, [dh, dw] = n.dilation as Pair;
          const pt = padBefore(h, kh, sh, dh, n.padding), pl = padBefore(w, kw, sw, dw, n.padding);
          if (l.kernel === "sparse" && n.op === "conv2d") {
            const { hp, wp } = planes.get(n.name)!;
            const act = WASM_ACTIVATIONS[n.activation] ?? 0;
            activationDone = act !== 0; // ReLU/ReLU6 applied in the kernel
            steps.push(() => k.sparseConvPlanar(batch, h, w, c, oh, ow, f, sh, sw, dh, dw, pt, pl, hp, wp, x, l.rowPtr, l.offsets, l.vals, l.bias, scratch, out, act));
          } else if (l.kernel === "sparse") {
            steps.push(() => k.sparseConv(batch, h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, pt, pl, x, l.rowPtr, l.offsets, l.vals, l.bias, l.tapStart, l.taps, out));
          } else {
            steps.push(() => k.denseConv(batch, h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, pt, pl, x, l.dense, l.bias, out));
          }
          break;
        }
        case "maxPool2d":
        case "avgPool2d": {
          const [h, w, c] = inShape, [oh, ow] = n.shape, [ph, pw] = n.poolSize, [sh, sw] = n.strides;
          const pt = padBefore(h, ph, sh, 1, n.padding), pl = padBefore(w, pw, sw, 1, n.padding), isMax = n.op === "maxPool2d" ? 1 : 0;
          steps.push(() => k.pool2d(batch, h, w, c, oh, ow, ph, pw, sh, sw, pt, pl, isMax, x, out));
          break;
        }
        default: {
          const shapes = n.inputs.map((i) => byName.get(i)!.shape);
          steps.push((heap) => new Float32Array(heap, out, size).set(runJsOp(n, n.inputs.map((i) => view(heap, i)), shapes, batch)));
        }
      }
      if (isPrunable(n) && n.activation !== "linear" && !activationDone) {
        const kind = WASM_ACTIVATIONS[n.activation];
        const activation = n.activation, width = n.shape[n.shape.length - 1];
        if (kind) steps.push(() => k.activate(out, size, kind));
        else steps.push((heap) => applyActivation(new Float32Array(heap, out, size), width, activation));
      }
    }
    return { steps, outputs: graph.outputs.map((o) => ({ at: addr.get(o)!, length: batch * sizeOf(byName.get(o)!) })) };
  }

  /** `batch` (≤ CHUNK) samples through the graph; the outputs are views of wasm memory. */
  function runChunk(inputs: readonly Float32Array[], batch: number): Float32Array[] {
    let plan = plans.get(batch);
    if (!plan) plans.set(batch, (plan = planChunk(batch)));
    const heap = k.memory.buffer;
    for (const step of plan.steps) step(heap, inputs);
    return plan.outputs.map((o) => new Float32Array(heap, o.at, o.length));
  }

  return {
    predict: (input, batch) => run(input, batch)[0],
    predictAll: run,
    simd: k.simdBuild() !== 0,
    layers: [...packed.values()].map((l) => ({ name: l.node.name, op: l.node.op, kernel: l.kernel, density: l.density, bytes: l.bytes })),
    memoryBytes: (batch: number) => {
      if (!Number.isInteger(batch) || batch < 1) throw new ValidationError("batch", "a positive integer", batch);
      return memoryBytes(Math.min(batch, CHUNK));
    },
    dispose: () => {
      disposed = true;
      packed.clear();
      plans.clear();
    },
  };
}
