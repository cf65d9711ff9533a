// The work folder's format (README "Across machines"): manifest.json, the signals the layer
// problems read (content-addressed .npy files), one result per layer, the claims of `--next`.
//
//   manifest.json                  what plan wrote: model and calibration hashes, one problem per layer
//   signals/<sha256>.npy           a [samples, features] float32 signal, named by the SHA-256 of its bytes
//                                  (layer ℓ's target is layer ℓ+1's input: one file serves both)
//   results/layer-<i>.npy          the solved W̄ = [W; bᵀ], [inputs + 1, units] float32 (a graph node: its
//                                  kernel as [kernel size / outputs, outputs], then the bias row)
//   results/layer-<i>.json         its status and info, the problem's hash, the .npy's hash
//   results/layer-<i>.timing.json  when, where and how long (not part of the result: it differs per run)
//   claims/layer-<i>.<n>           who took the layer with solve --next (n-th claim; see claim.ts)
import * as crypto from "node:crypto";
import type { LayerInfo, SolveStatus } from "../types.ts";
import type { DenseNetwork } from "../network/network.ts";
import type { GraphLayerOptions } from "../network/graph-prune-types.ts";
import type { ModelGraph } from "../network/graph/types.ts";
import type { NetworkLayerOptions } from "../network/types.ts";
import type { PoolConvOptions, PoolLayerOptions } from "../workers/protocol.ts";

export const MANIFEST = "manifest.json";
export const FORMAT = "net-trim-work";
export const FORMAT_VERSION = 1;

export const resultWeights = (i: number) => `results/layer-${i}.npy`;
export const resultRecord = (i: number) => `results/layer-${i}.json`;
export const resultTiming = (i: number) => `results/layer-${i}.timing.json`;
export const signalFile = (sha256: string) => `signals/${sha256}.npy`;

/** A .npy file of the folder and the SHA-256 of its bytes. */
export interface FileRef {
  file: string;
  sha256: string;
  shape: number[];
}

/** One layer's self-contained problem: everything in-process parallel mode hands the layer solver. */
export interface LayerProblemEntry {
  index: number;
  name: string;
  kind: "relu" | "linear";
  inputs: number;
  units: number;
  /** X: the original network's signal entering the layer ([samples, inputs]; layer 0: the calibration). */
  input: FileRef;
  /** Y: the original network's signal leaving it ([samples, units]). */
  target: FileRef;
  /** V: parallel mode has none (V = 0). */
  upperBound: null;
  /** The options the layer solver receives, exactly (the budget as epsilonGain: ε = gain·‖Y‖_F). */
  solverOptions: PoolLayerOptions;
  /** ‖Y‖_F and the budget ε = epsilonGain·‖Y‖_F it implies (the solver computes it the same way). */
  targetNorm: number;
  epsilon: number;
  /** Upper estimate of the WebAssembly memory the solve takes (bytes). */
  memoryBytes: number;
  /** SHA-256 of this entry (without this field) with the model's and the calibration's hashes. */
  sha256: string;
}

/**
 * One prunable node of a model graph (Dense, Conv2D, DepthwiseConv2D): the pool job pruneGraph's
 * parallel mode posts for it (graph-solve.ts NodeJob), its arrays as files. A depthwise node's
 * per-channel problems are one job, as on the pool.
 */
export interface NodeProblemEntry {
  index: number;
  name: string;
  op: "dense" | "conv2d" | "depthwiseConv2d";
  program: "relu" | "linear";
  programReason: string;
  /** The job's input: a Dense node's [rows, inputs] matrix (every position a row), a conv node's NHWC tensor. */
  input: FileRef;
  /** The program's target: [rows, units], or the NHWC output tensor. */
  target: FileRef;
  upperBound: null;
  /** The job's options, exactly (geometry included for conv nodes; the budget as epsilonGain). */
  solverOptions: PoolLayerOptions | PoolConvOptions;
  targetNorm: number;
  epsilon: number;
  /** Upper estimate of the WebAssembly memory the solve takes (bytes; a depthwise node: one channel at a time). */
  memoryBytes: number;
  sha256: string;
}

export type ProblemEntry = LayerProblemEntry | NodeProblemEntry;

export const isNodeEntry = (e: ProblemEntry): e is NodeProblemEntry => "op" in e;

export interface Manifest {
  format: typeof FORMAT;
  version: number;
  mode: "parallel";
  /** "graph": the plan of a model graph (one job per prunable node); absent: of a Dense chain. */
  kind?: "graph";
  model: { sha256: string; name?: string; inputSize?: number; inputShape?: number[]; layers: string[] };
  /** The calibration samples: [samples, features] for a chain, [samples, ...inputShape] for a graph. */
  calibration: FileRef & { samples: number; features: number };
  options: { epsilonGain: number[]; layerOptions: NetworkLayerOptions | GraphLayerOptions };
  layers: ProblemEntry[];
}

/** results/layer-<i>.json: the same bytes every time the same problem is solved. */
export interface ResultRecord {
  format: "net-trim-result";
  version: number;
  layer: number;
  name: string;
  /** The problem's sha256 (manifest.layers[i].sha256) this result solves. */
  problem: string;
  status: SolveStatus;
  weights: FileRef;
  /** The solver's info without its timings (those are in the timing file); a depthwise node has none. */
  info?: Record<string, unknown>;
  /** A depthwise node: each channel's info, likewise. */
  channels?: Record<string, unknown>[];
  /** A graph node: the solve's ε, output error, nonzeros and iterations (as pruneGraph reports them). */
  summary?: Record<string, unknown>;
  /** SHA-256 of this record without this field. */
  sha256: string;
}

export interface TimingRecord {
  setupMs: number;
  solveMs: number;
  totalMs: number;
  /** Reading the problem, solving, writing the result. */
  wallMs: number;
  host: string;
  pid: number;
  finishedAt: string;
  /** A depthwise node: each channel's timings. */
  channels?: Pick<TimingRecord, "setupMs" | "solveMs" | "totalMs">[];
}

const TIMING_FIELDS = ["setupMs", "solveMs", "totalMs"] as const;

export function sha256(bytes: Uint8Array | string): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** JSON with object keys sorted at every level: the text a hash is taken of. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** The hash of a record's fields other than `sha256`. */
export function recordHash(record: object): string {
  const { sha256: _s, ...rest } = record as Record<string, unknown>;
  return sha256(canonicalJson(rest));
}

/** SHA-256 of what makes a network: its layers' names, shapes, activations and weights (not where it was read from). */
export function networkHash(network: DenseNetwork): string {
  const h = crypto.createHash("sha256");
  h.update(canonicalJson({
    inputSize: network.inputSize, outputActivation: network.outputActivation ?? null,
    layers: network.layers.map((l) => ({ name: l.name, activation: l.activation, inputs: l.inputs, units: l.units, useBias: l.useBias })),
  }));
  for (const l of network.layers) {
    h.update(new Uint8Array(l.kernel.buffer, l.kernel.byteOffset, l.kernel.byteLength));
    h.update(new Uint8Array(l.bias.buffer, l.bias.byteOffset, l.bias.byteLength));
  }
  return h.digest("hex");
}

/** SHA-256 of a model graph: its nodes' fields (names, ops, shapes, attributes) and the bytes of every array they hold. */
export function graphHash(graph: ModelGraph): string {
  const h = crypto.createHash("sha256");
  const arrays: ArrayBufferView[] = [];
  const nodes = graph.nodes.map((n) => Object.fromEntries(Object.entries(n).map(([k, v]) => {
    if (!ArrayBuffer.isView(v)) return [k, v];
    arrays.push(v);
    return [k, { array: v.constructor.name, bytes: v.byteLength }];
  })));
  h.update(canonicalJson({ inputs: graph.inputs, outputs: graph.outputs, nodes }));
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest("hex");
}

// LayerInfo holds non-finite numbers (a bound of -Infinity, a NaN gap) and an Int32Array: JSON
// keeps neither, so they travel as the strings "NaN", "Infinity", "-Infinity" and an array.
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

export function encodeInfo(info: LayerInfo | Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    if ((TIMING_FIELDS as readonly string[]).includes(k)) continue;
    out[k] = v instanceof Int32Array ? Array.from(v) : typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
  }
  return out;
}

/** The values encodeInfo wrote, as they were. */
export function decodeValues(encoded: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(encoded)) {
    out[k] = k === "nnzPerNeuron" ? Int32Array.from(v as number[]) : typeof v === "string" && NON_FINITE.has(v) ? Number(v) : v;
  }
  return out;
}

export function decodeInfo(encoded: Record<string, unknown>, timing: Pick<TimingRecord, (typeof TIMING_FIELDS)[number]>): LayerInfo {
  const out = decodeValues(encoded);
  for (const k of TIMING_FIELDS) out[k] = timing[k];
  return out as unknown as LayerInfo;
}
