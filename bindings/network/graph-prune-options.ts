// pruneGraph's arguments checked before any work: the options (each refused by name), the
// calibration samples (a tensor [samples, ...inputShape] or a flattened matrix matched to the
// graph's input shape) and the memory of every layer's solve.
import { DEFAULTS, LIMITS } from "../defaults.ts";
import { GraphError, ShapeError, ValidationError } from "../errors.ts";
import { checkHasSamples, resolveOptions, toDenseF32 } from "../validate.ts";
import { withNetworkReweight } from "../validate-reweight.ts";
import { checkOptionNames, checkSignal, checkThreads } from "../option-checks.ts";
import { convAxis, type ConvGeometry } from "../solver/conv-geometry.ts";
import { checkLayerFits, convWUpdateThatFits, denseLayerBytes } from "../solver/memory-check.ts";
import { estimateConvLayerBytes } from "../solver/memory-check.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "./graph/types.ts";
import type { GraphLayerOptions, GraphPruneOptions } from "./graph-prune-types.ts";
import type { NetworkOptions, PruneMode } from "./types.ts";
import { checkKeep } from "./keep-search.ts";

const OPTION_NAMES = ["mode", "epsilonGain", "density", "densityTolerance", "gamma", "kappa", "layerOptions", "layers", "onProgress", "signal", "workers", "threads", "refit"];
/** Set by the driver per node, not by the user. */
const DRIVER_SET = ["kind", "epsilon", "epsilonGain", "upperBound", "fitBias", "signal", "onProgress", "warmStart", "kernelSize", "strides", "padding", "dilation"];

interface ResolvedGraphOptions {
  mode: PruneMode;
  gainOf: (node: string) => number;
  /** Each pruned node's target density, when the density search runs. */
  densityOf: ((node: string) => number) | undefined;
  densityTolerance: number;
  gamma: number;
  kappa: number;
  layerOptions: GraphLayerOptions;
  /** Names of the nodes to prune (prunable, in the graph). */
  selected: Set<string>;
  /** Threads of each node solved in this thread. */
  threads: number | "auto";
  refit: boolean;
}

const isGain = (g: unknown) => typeof g === "number" && Number.isFinite(g) && g >= 0;

export function resolveGraphOptions(graph: ModelGraph, options: GraphPruneOptions): ResolvedGraphOptions {
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw new ValidationError("options", "an object", options);
  // pruneGraph takes keep (with keepAllocation) apart, before these options (checkGraphKeep).
  if (options.keepAllocation !== undefined) throw new ValidationError("options.keepAllocation", "only with options.keep (how the whole graph's share is reached)", options.keepAllocation);
  checkOptionNames(options, "options", OPTION_NAMES);
  const mode = options.mode ?? "parallel";
  if (mode !== "parallel" && mode !== "cascade") throw new ValidationError("options.mode", `"parallel" or "cascade"`, mode);
  const prunable = graph.nodes.filter(isPrunable).map((n) => n.name);
  let selected = new Set(prunable);
  if (options.layers !== undefined) {
    if (!Array.isArray(options.layers)) throw new ValidationError("options.layers", "an array of prunable node names", options.layers);
    for (const name of options.layers) {
      if (!prunable.includes(name)) throw new ValidationError("options.layers", `names of Dense/Conv2D/DepthwiseConv2D nodes (${prunable.join(", ")})`, name);
    }
    selected = new Set(options.layers);
  }
  const gain = options.epsilonGain ?? DEFAULTS.epsilonGain;
  let gainOf: (node: string) => number;
  if (typeof gain === "number") {
    if (!isGain(gain)) throw new ValidationError("options.epsilonGain", "a finite number ≥ 0, or one per node by name", gain);
    gainOf = () => gain;
  } else if (gain !== null && typeof gain === "object" && !Array.isArray(gain)) {
    for (const [name, g] of Object.entries(gain)) {
      if (!selected.has(name)) throw new ValidationError(`options.epsilonGain["${name}"]`, "a node that is pruned", "a node name");
      if (!isGain(g)) throw new ValidationError(`options.epsilonGain["${name}"]`, "a finite number ≥ 0", g);
    }
    gainOf = (node) => gain[node] ?? DEFAULTS.epsilonGain;
  } else {
    throw new ValidationError("options.epsilonGain", "a finite number ≥ 0, or {nodeName: gain}", gain);
  }
  const densityOf = checkDensity(options, selected);
  const densityTolerance = options.densityTolerance ?? 0.05;
  if (!isGain(densityTolerance)) throw new ValidationError("options.densityTolerance", "a finite number ≥ 0", densityTolerance);
  const gamma = options.gamma ?? 1.1;
  if (typeof gamma !== "number" || !(gamma >= 1) || !Number.isFinite(gamma)) throw new ValidationError("options.gamma", "a finite number ≥ 1", gamma);
  const kappa = options.kappa ?? 1;
  if (typeof kappa !== "number" || !(kappa > 0 && kappa <= 1)) throw new ValidationError("options.kappa", "a number in (0, 1]", kappa);
  const layerOptions = options.layerOptions ?? {};
  if (layerOptions === null || typeof layerOptions !== "object" || Array.isArray(layerOptions)) throw new ValidationError("options.layerOptions", "an object", layerOptions);
  for (const banned of DRIVER_SET) {
    if (banned in layerOptions) throw new ValidationError(`options.layerOptions.${banned}`, "to be set by the graph driver", (layerOptions as Record<string, unknown>)[banned]);
  }
  // Checked here, once, before any work (as pruneNetwork does); wUpdate is the conv nodes' own.
  const { wUpdate, ...solverOptions } = layerOptions;
  if (wUpdate !== undefined && wUpdate !== "auto" && wUpdate !== "factored" && wUpdate !== "cg") {
    throw new ValidationError("options.layerOptions.wUpdate", `"auto", "factored" or "cg"`, wUpdate);
  }
  resolveOptions(solverOptions, "options.layerOptions");
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new ValidationError("options.onProgress", "a function", options.onProgress);
  checkSignal(options.signal, "options.signal");
  const threads = checkThreads(options.threads === undefined ? 1 : options.threads, "options.threads");
  const refit = options.refit ?? false;
  if (typeof refit !== "boolean") throw new ValidationError("options.refit", "true or false", refit);
  // Reweighted ℓ1 unless layerOptions.reweight says otherwise, as pruneNetwork.
  return { mode, gainOf, densityOf, densityTolerance, gamma, kappa, layerOptions: withNetworkReweight(layerOptions), selected, threads, refit };
}

const isDensity = (d: unknown) => typeof d === "number" && d > 0 && d <= 1;

/** options.density: one fraction, or one per pruned node by name (every one named). */
function checkDensity(options: GraphPruneOptions, selected: Set<string>): ((node: string) => number) | undefined {
  const density = options.density;
  if (density === undefined) return undefined;
  if (options.epsilonGain !== undefined) throw new ValidationError("options.density", "either density or epsilonGain, not both", density);
  if (typeof density === "number") {
    if (!isDensity(density)) throw new ValidationError("options.density", "a fraction in (0, 1], or one per pruned node by name", density);
    return () => density;
  }
  if (density === null || typeof density !== "object" || Array.isArray(density)) {
    throw new ValidationError("options.density", "a fraction in (0, 1], or {nodeName: fraction} for every pruned node", density);
  }
  for (const [name, d] of Object.entries(density)) {
    if (!selected.has(name)) throw new ValidationError(`options.density["${name}"]`, `a node that is pruned (${[...selected].join(", ")})`, "a node name");
    if (!isDensity(d)) throw new ValidationError(`options.density["${name}"]`, "a fraction in (0, 1]", d);
  }
  for (const name of selected) {
    if (!(name in density)) throw new ValidationError(`options.density["${name}"]`, "a fraction in (0, 1] for every pruned node", undefined);
  }
  return (node) => density[node];
}

/**
 * options.keep on a graph: checked as pruneNetwork checks it (not with epsilonGain or density;
 * "per-layer" the default in parallel mode, "common-gain" the only one in cascade mode).
 */
export function checkGraphKeep(options: GraphPruneOptions): ReturnType<typeof checkKeep> {
  return checkKeep(options as NetworkOptions);
}

/** The calibration samples as f32 [samples, ...inputShape] row-major, and the sample count. */
export function calibrationSamples(graph: ModelGraph, input: unknown): { data: Float32Array; samples: number } {
  if (graph.inputs.length !== 1) {
    throw new ValidationError("graph.inputs", "a graph with one input (pruneGraph takes one calibration tensor)", graph.inputs);
  }
  const inputNode = graph.nodes.find((n) => n.name === graph.inputs[0])!;
  const shape = inputNode.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const t = input as { shape?: unknown; data?: unknown };
  if (t !== null && typeof t === "object" && !Array.isArray(t) && "shape" in t) {
    const s = t.shape;
    if (!Array.isArray(s) || s.length !== shape.length + 1 || !s.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ValidationError("input.shape", `[samples, ${shape.join(", ")}] (the graph input "${inputNode.name}")`, s);
    }
    if (s.slice(1).some((d, i) => d !== shape[i])) {
      throw new ShapeError(`input has shape [${s.join(", ")}] but the graph input "${inputNode.name}" takes [samples, ${shape.join(", ")}]`);
    }
    const m = toDenseF32({ data: t.data, rows: s[0], cols: size }, "input");
    checkHasSamples(m.rows, "input.shape[0]");
    return { data: m.data, samples: m.rows };
  }
  const m = toDenseF32(input, "input");
  checkHasSamples(m.rows, "input.rows");
  if (m.cols !== size) {
    throw new ShapeError(`input has ${m.cols} features per sample but the graph input "${inputNode.name}" of shape [${shape.join(", ")}] takes ${size}`);
  }
  return { data: m.data, samples: m.rows };
}

function convGeometry(node: PrunableNode & { op: "conv2d" | "depthwiseConv2d" }, inShape: readonly number[], samples: number): ConvGeometry {
  const [inH, inW, inC] = inShape;
  const rows = convAxis(inH, node.kernelSize[0], node.strides[0], node.dilation[0], node.padding);
  const cols = convAxis(inW, node.kernelSize[1], node.strides[1], node.dilation[1], node.padding);
  const depthwise = node.op === "depthwiseConv2d";
  return {
    samples, inH, inW, inC: depthwise ? 1 : inC, outH: rows.out, outW: cols.out, outC: depthwise ? node.depthMultiplier : node.filters,
    kh: node.kernelSize[0], kw: node.kernelSize[1], sh: node.strides[0], sw: node.strides[1], dh: node.dilation[0], dw: node.dilation[1],
    padTop: rows.padBefore, padLeft: cols.padBefore,
  };
}

/**
 * Throws OutOfMemoryError naming the node when its solve cannot fit in WebAssembly memory (the
 * Dense plan, or the conv plan of the W-update it would use; a depthwise node per channel).
 */
export function checkNodeFits(node: PrunableNode, inShape: readonly number[], samples: number, hasUpperBound: boolean, wUpdate: GraphLayerOptions["wUpdate"]): void {
  const where = `node "${node.name}" (${node.op}, input [${samples}, ${inShape.join(", ")}] → [${samples}, ${node.shape.join(", ")}])`;
  if (node.op === "dense") {
    const n = inShape[inShape.length - 1];
    const rows = samples * (inShape.reduce((a, b) => a * b, 1) / n);
    checkLayerFits(`${where} as ${rows} rows of ${n} inputs → ${node.units} outputs`, rows, n, node.units, hasUpperBound);
    return;
  }
  // The conv solver's bound (LIMITS.convWindow), named here by node before any work rather than
  // by pruneConvLayer's option names in the middle of the run.
  for (const field of ["kernelSize", "strides", "dilation"] as const) {
    if (node[field].some((v) => v > LIMITS.convWindow)) {
      throw new GraphError(node.name, node.op, `${field}: expected integers from 1 to ${LIMITS.convWindow} to be pruned (the kernels compute pixel positions in 32-bit integers), received [${node[field].join(", ")}]`, "invalid_option");
    }
  }
  const g = convGeometry(node, inShape, samples);
  convWUpdateThatFits(node.op === "depthwiseConv2d" ? `${where}, each channel's solve` : where, g, hasUpperBound, wUpdate ?? "auto");
}

/** Upper estimate of the WebAssembly memory the node's solve takes (bytes; a depthwise node: one channel's solve at a time). */
export function nodeSolveBytes(node: PrunableNode, inShape: readonly number[], samples: number, wUpdate: GraphLayerOptions["wUpdate"]): number {
  if (node.op === "dense") {
    const n = inShape[inShape.length - 1];
    return denseLayerBytes(samples * (inShape.reduce((a, b) => a * b, 1) / n), n, node.units, false).bytes;
  }
  const g = convGeometry(node, inShape, samples);
  const chosen = convWUpdateThatFits(node.name, g, false, wUpdate ?? "auto");
  return estimateConvLayerBytes(g, false, chosen);
}
