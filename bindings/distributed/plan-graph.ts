// planGraph: pruneGraph's parallel mode written out as jobs, one per prunable node (Dense,
// Conv2D, DepthwiseConv2D; a depthwise node's per-channel problems are one job, as on the pool).
// The original graph's signals are computed once, after folding BatchNorms, as pruneGraph does;
// each node's problem is the pool job pruneGraph posts for it (graph-solve.ts nodeJob), its input
// and target as content-addressed .npy files, listed in manifest.json with their hashes.
import { ValidationError } from "../errors.ts";
import type { Tensor } from "../conv-types.ts";
import type { MatrixInput } from "../types.ts";
import { foldBatchNorms } from "../network/graph/fold-batchnorm.ts";
import { forwardGraph } from "../network/graph/forward-graph.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "../network/graph/types.ts";
import { frobenius } from "../network/forward.ts";
import { consumersOf, programOf, targetOf } from "../network/graph-programs.ts";
import { calibrationSamples, checkNodeFits, nodeSolveBytes, resolveGraphOptions } from "../network/graph-prune-options.ts";
import type { GraphLayerOptions } from "../network/graph-prune-types.ts";
import { nodeJob } from "../network/graph-solve.ts";
import { FORMAT, FORMAT_VERSION, graphHash, type Manifest, type NodeProblemEntry } from "./format.ts";
import { keepSignal, manifestLayerOptions, problemHash, writePlan, type Plan } from "./plan.ts";
import { openWorkStore, type WorkLocation } from "./store.ts";

export interface GraphPlanOptions {
  /** Only "parallel" (cascade feeds each node the pruned graph's signals: its nodes cannot be solved apart). */
  mode?: "parallel";
  /** ε = gain·‖Y‖_F: one number, or one per node by name (as pruneGraph's). Default 0.05. */
  epsilonGain?: number | Record<string, number>;
  /** As pruneGraph's layerOptions (plain values and reweight only: they are written to the manifest, reweight resolved). */
  layerOptions?: GraphLayerOptions;
  /** The nodes to prune (as pruneGraph's); default every prunable node. */
  layers?: string[];
  /** As planNetwork's: replace a folder that holds another plan. */
  replace?: boolean;
}

const PLAN_KEYS = ["mode", "epsilonGain", "layerOptions", "layers", "replace"];

/**
 * Writes one self-contained problem per pruned node of `graph` into the work folder, for
 * `solveJob` to solve anywhere and `mergeGraphResults` to assemble into what
 * pruneGraph(graph, input, {mode: "parallel"}) returns. Same graph, samples, options: same folder.
 */
export async function planGraph(graph: ModelGraph, input: Tensor | MatrixInput, options: GraphPlanOptions = {}, work: WorkLocation): Promise<Plan> {
  if (!graph || !Array.isArray(graph.nodes) || !Array.isArray(graph.inputs) || !Array.isArray(graph.outputs)) {
    throw new ValidationError("graph", "a ModelGraph (see buildGraph)", graph);
  }
  for (const key of Object.keys(options)) {
    if (!PLAN_KEYS.includes(key)) throw new ValidationError(`options.${key}`, `one of ${PLAN_KEYS.join(", ")} (a plan is parallel mode with a budget per node)`, (options as Record<string, unknown>)[key]);
  }
  if (options.mode !== undefined && options.mode !== "parallel") {
    throw new ValidationError("options.mode", `"parallel" (cascade mode solves each node on the pruned graph's signals: its nodes cannot be solved apart)`, options.mode);
  }
  const { replace: _r, ...pruneOptions } = options;
  const o = resolveGraphOptions(graph, { ...pruneOptions, mode: "parallel" });
  const layerOptions = manifestLayerOptions(o.layerOptions);
  const { data: x, samples } = calibrationSamples(graph, input);
  const { graph: folded } = foldBatchNorms(graph);
  const consumers = consumersOf(folded);
  const shapeOf = new Map(folded.nodes.map((n) => [n.name, n.shape]));
  const targets = folded.nodes.filter((n): n is PrunableNode => isPrunable(n) && o.selected.has(n.name));
  if (targets.length === 0) throw new ValidationError("options.layers", "at least one node to prune", options.layers);
  for (const n of targets) checkNodeFits(n, shapeOf.get(n.inputs[0])!, samples, false, o.layerOptions.wUpdate);
  const store = openWorkStore(work);

  const original = forwardGraph(folded, [x], samples, { outputsOf: targets.map((n) => n.inputs[0]), preActivationOf: targets.map((n) => n.name) });
  const files = new Map<string, Uint8Array>();
  const inputNode = folded.nodes.find((n) => n.name === folded.inputs[0])!;
  const features = inputNode.shape.reduce((a, b) => a * b, 1);
  const calibration = { ...keepSignal(files, x, [samples, ...inputNode.shape]), samples, features };
  const model = {
    sha256: graphHash(graph), inputShape: inputNode.shape, layers: targets.map((n) => n.name),
  };
  const layers = targets.map((node, index): NodeProblemEntry => {
    const program = programOf(folded, node, consumers);
    const target = targetOf(program, original.preActivations.get(node.name)!);
    const inShape = shapeOf.get(node.inputs[0])!;
    const gain = o.gainOf(node.name);
    const job = nodeJob(node, { input: original.values.get(node.inputs[0])!, inShape, samples, target }, program.program, { epsilonGain: gain }, layerOptions);
    const shapeOfJob = (m: { rows: number; cols: number } | { shape: readonly number[] }) => ("shape" in m ? [...m.shape] : [m.rows, m.cols]);
    const targetNorm = frobenius(target);
    const entry: Omit<NodeProblemEntry, "sha256"> = {
      index, name: node.name, op: node.op, program: program.program, programReason: program.reason,
      input: keepSignal(files, job.input.data as Float32Array, shapeOfJob(job.input)), target: keepSignal(files, job.output.data as Float32Array, shapeOfJob(job.output)),
      upperBound: null, solverOptions: JSON.parse(JSON.stringify(job.options)) as NodeProblemEntry["solverOptions"],
      targetNorm, epsilon: gain * targetNorm, memoryBytes: nodeSolveBytes(node, inShape, samples, layerOptions.wUpdate),
    };
    return { ...entry, sha256: problemHash(entry, model.sha256, calibration.sha256) };
  });
  const manifest: Manifest = {
    format: FORMAT, version: FORMAT_VERSION, mode: "parallel", kind: "graph", model, calibration,
    options: { epsilonGain: targets.map((n) => o.gainOf(n.name)), layerOptions }, layers,
  };
  return { jobs: layers.length, manifest, location: store.location, written: await writePlan(store, manifest, files, options.replace === true) };
}
