// pruneGraph: the paper's two drivers (SPEC §4) on any model graph (a DAG of Dense, Conv2D and
// DepthwiseConv2D nodes among the other ops), after folding every foldable BatchNorm.
//   parallel — every prunable node on the ORIGINAL graph's signals (its input node's output, its
//              own target), V = 0, ε = gain·‖Y‖;
//   cascade  — nodes in topological order, each fed the partially pruned graph's signal, target
//              the original, V = W̄ᵀX̂, ε² = γ·‖(W̄ᵀX̂ − Y)_Ω‖² (κ on the final nodes).
// Parallel mode solves the nodes on the worker pool (`workers`, default the hardware threads)
// or, with workers: 0, one after another in this thread: the same results to the bit. Cascade
// runs in this thread. A node solved in this thread may split its iterations over `threads`
// threads (the same bits again). On a chain of Dense layers it does what pruneNetwork does, to the bit.
// With `refit`, the kept weights are then refitted by least squares (graph-refit.ts). Instead of
// epsilon gains: a density per node (graph-density.ts) or a whole-graph keep (graph-keep.ts per
// node, keep-search.ts one gain).
import { ValidationError } from "../errors.ts";
import { buildGraph } from "./graph/build.ts";
import { foldBatchNorms } from "./graph/fold-batchnorm.ts";
import { forwardGraph } from "./graph/forward-graph.ts";
import { isPrunable, type GraphNode, type ModelGraph, type PrunableNode } from "./graph/types.ts";
import { cascadeEpsilon, cascadeFloor, depthwiseCascadeEpsilon } from "./graph-cascade-budget.ts";
import { calibrationSamples, checkGraphKeep, checkNodeFits, resolveGraphOptions } from "./graph-prune-options.ts";
import { solveNodeToDensity } from "./graph-density.ts";
import { searchKeep } from "./keep-search.ts";
import { allocateGraphKeep } from "./graph-keep.ts";
import { consumersOf, programOf, targetOf } from "./graph-programs.ts";
import { nodeJob, solveNode, solveNodeOnPool, type Budget, type NodeJob, type NodeSignals, type NodeSolve } from "./graph-solve.ts";
import { planExecution } from "./execution.ts";
import { createLayerPool } from "../workers/pool.ts";
import { frobenius } from "./forward.ts";
import { graphLayerReport, graphOutputError } from "./graph-node-report.ts";
import { refitReturned } from "./graph-refit.ts";
import { graphGuarantee, INCOMPLETE_ABSENT } from "./graph-guarantee.ts";
import type { MatrixInput, ProgressInfo } from "../types.ts";
import type { Tensor } from "../conv-types.ts";
import type { GraphLayerReport, GraphPruneOptions, GraphResult, NodeProgram } from "./graph-prune-types.ts";

/** The node and every node it depends on, as a graph whose output is the node. */
function upTo(graph: ModelGraph, name: string): ModelGraph {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const keep = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (keep.has(n)) continue;
    keep.add(n);
    stack.push(...byName.get(n)!.inputs);
  }
  return buildGraph(graph.nodes.filter((n) => keep.has(n.name)), graph.inputs.filter((i) => keep.has(i)), [name]);
}

/** Every node downstream of `name` (itself included). */
function downstreamOf(name: string, consumers: Map<string, GraphNode[]>): string[] {
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const c of consumers.get(n)!) stack.push(c.name);
  }
  return [...seen];
}

/**
 * Prunes the Dense, Conv2D and DepthwiseConv2D nodes of `graph` on calibration samples `input`:
 * a tensor [samples, ...inputShape] (NHWC) or a [samples, features] matrix of flattened samples.
 * The graph given is not modified.
 */
export async function pruneGraph(graph: ModelGraph, input: Tensor | MatrixInput, options: GraphPruneOptions = {}): Promise<GraphResult> {
  const t0 = performance.now();
  if (!graph || !Array.isArray(graph.nodes) || !Array.isArray(graph.inputs) || !Array.isArray(graph.outputs)) {
    throw new ValidationError("graph", "a ModelGraph (see buildGraph)", graph);
  }
  if (options !== null && typeof options === "object" && options.keep !== undefined) {
    // The whole-network target: per node in parallel mode (graph-keep.ts), else one gain for every node,
    // bisected, each probe a run (as pruneNetwork's common-gain keep).
    const { keep, allocation } = checkGraphKeep(options);
    const { keep: _k, keepAllocation: _a, ...rest } = options;
    if (allocation === "per-layer") return allocateGraphKeep(graph, input, keep, rest);
    return searchKeep(keep, options.densityTolerance ?? 0.05, (gain) => pruneGraph(graph, input, { ...rest, epsilonGain: gain }));
  }
  const o = resolveGraphOptions(graph, options);
  const { data: x, samples } = calibrationSamples(graph, input);
  const execution = await planExecution(o.mode, o.densityOf !== undefined, options.workers, [...o.selected].length);
  const { graph: folded, folded: foldedBatchNorms } = foldBatchNorms(graph);
  const consumers = consumersOf(folded);
  const shapeOf = new Map(folded.nodes.map((n) => [n.name, n.shape]));
  const targets = folded.nodes.filter((n): n is PrunableNode => isPrunable(n) && o.selected.has(n.name));
  const programs = new Map<string, NodeProgram>(targets.map((n) => [n.name, programOf(folded, n, consumers)]));
  const downstream = new Map(targets.map((n) => [n.name, new Set(downstreamOf(n.name, consumers))]));
  // Final nodes (κ in cascade): no pruned node downstream of them.
  const final = new Set(targets.filter((n) => ![...downstream.get(n.name)!].some((d) => d !== n.name && o.selected.has(d))).map((n) => n.name));
  for (const n of targets) {
    checkNodeFits(n, shapeOf.get(n.inputs[0])!, samples, o.mode === "cascade" && programs.get(n.name)!.program === "relu", o.layerOptions.wUpdate);
  }

  // The original signals every solve needs, computed at once and dropped after their last use.
  // Cascade feeds a node the original input only when no pruned node is upstream of it.
  const fedOriginal = targets.filter((n) => o.mode === "parallel" || !targets.some((t) => downstream.get(t.name)!.has(n.inputs[0])));
  const original = forwardGraph(folded, [x], samples, { outputsOf: fedOriginal.map((n) => n.inputs[0]), preActivationOf: targets.map((n) => n.name) });
  const lastUse = new Map(targets.map((n, k) => [n.inputs[0], k]));
  const reports: GraphLayerReport[] = [];
  const replaced = new Map<string, GraphNode>();
  const changed = new Set<string>(); // nodes whose output differs from the original's (cascade only)
  const current = () => buildGraph(folded.nodes.map((n) => replaced.get(n.name) ?? n), folded.inputs, folded.outputs);

  /**
   * Node k's solve as data, the norm of its target (taken now: a pool job may detach the target) and
   * the floor of its density search (cascade, input changed: the smallest ε at which the original
   * weights are feasible, as pruneNetwork's search starts from).
   */
  const prepare = (k: number): { job: NodeJob; targetNorm: number; floor: number } => {
    const node = targets[k];
    const program = programs.get(node.name)!;
    const relu = program.program === "relu";
    const target = targetOf(program, original.preActivations.get(node.name)!);
    const inName = node.inputs[0];
    let signals: NodeSignals, budget: Budget, floor = 0;
    if (!changed.has(inName)) {
      signals = { input: original.values.get(inName)!, inShape: shapeOf.get(inName)!, samples, target };
      budget = { epsilonGain: o.gainOf(node.name) };
    } else {
      const f = forwardGraph(upTo(current(), node.name), [x], samples, { outputsOf: [inName], preActivationOf: [node.name] });
      const v = f.preActivations.get(node.name)!; // the original weights on the pruned input
      signals = { input: f.values.get(inName)!, inShape: shapeOf.get(inName)!, samples, target, ...(relu ? { upperBound: v } : {}) };
      const isFinal = final.has(node.name);
      const channels = shapeOf.get(inName)![2];
      budget = {
        epsilon: node.op === "depthwiseConv2d"
          ? depthwiseCascadeEpsilon(v, target, relu, channels, node.depthMultiplier, o.gamma, o.kappa, isFinal)
          : cascadeEpsilon(v, target, relu, o.gamma, o.kappa, isFinal),
      };
      if (o.densityOf) {
        floor = node.op === "depthwiseConv2d" ? depthwiseCascadeEpsilon(v, target, relu, channels, node.depthMultiplier, 1, 1, false) : cascadeFloor(v, target, relu);
      }
    }
    original.preActivations.delete(node.name);
    if (lastUse.get(inName) === k) original.values.delete(inName);
    return { job: nodeJob(node, signals, program.program, budget, o.layerOptions), targetNorm: frobenius(target), floor };
  };
  const hooks = (k: number) => ({
    signal: options.signal,
    onProgress: options.onProgress
      ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: k, layers: targets.length, name: targets[k].name, phase: "solving" })
      : undefined,
  });
  const record = (k: number, r: NodeSolve, targetNorm: number, timeMs: number) => {
    const node = targets[k];
    reports[k] = graphLayerReport(node, programs.get(node.name)!, r, targetNorm, timeMs);
    options.onProgress?.({ layer: k, layers: targets.length, name: node.name, phase: "done", iteration: r.iterations });
    replaced.set(node.name, { ...node, kernel: r.weights, bias: node.bias ? r.bias : null });
    if (o.mode === "cascade") for (const d of downstream.get(node.name)!) changed.add(d);
  };

  if (execution.workers > 0) {
    if (!options.signal?.aborted) await solveAllOnPool(execution.workers, targets.map((_, k) => prepare(k)), x, hooks, record, options.signal);
  } else {
    for (let k = 0; k < targets.length && !options.signal?.aborted; k++) {
      const { job, targetNorm, floor } = prepare(k);
      const started = performance.now();
      const r = o.densityOf
        ? await solveNodeToDensity(job, o.densityOf(targets[k].name), o.densityTolerance, floor, hooks(k), o.threads)
        : await solveNode(job, hooks(k), o.threads);
      record(k, r, targetNorm, performance.now() - started);
    }
  }

  // As pruneNetwork: a run that was aborted or stopped early returns the original graph, never a half-pruned one.
  const done = reports.filter(Boolean); // (every() would skip the holes of an aborted pool run)
  const complete = done.length === targets.length && done.every((r) => r.status !== "aborted");
  let out: ModelGraph = complete ? current() : { nodes: [...graph.nodes], inputs: [...graph.inputs], outputs: [...graph.outputs] };
  const firstBad = done.find((r) => r.status !== "solved");
  // The guarantee of the Net-Trim weights (before any refit).
  const guarantee = complete ? graphGuarantee(folded, out, x, samples, done, o.mode, o.refit) : { guaranteeAbsent: INCOMPLETE_ABSENT };
  let layers = done, refit: GraphResult["refit"];
  if (o.refit && complete) ({ graph: out, layers, refit } = refitReturned(folded, out, x, samples, done, options.onProgress));
  return {
    graph: out,
    status: firstBad?.status ?? (complete ? "solved" : "aborted"),
    layers,
    ...(refit ? { refit } : {}),
    ...guarantee,
    foldedBatchNorms: complete ? foldedBatchNorms : [],
    outputError: graphOutputError(graph, complete ? out : undefined, x, samples),
    execution,
    timeMs: performance.now() - t0,
  };
}

/**
 * Parallel mode on the pool: every node's job at once, reports in node order whatever the
 * completion order. Each signal array is posted once without a copy (detached here; the
 * calibration input, and an array whose buffer an earlier job took, are copied once). A job the pool had
 * to end after an abort (its worker did not stop within the grace period) leaves no report: the
 * run is then aborted and returns the original graph, as in this thread.
 */
async function solveAllOnPool(
  workers: number, prepared: { job: NodeJob; targetNorm: number }[], x: Float32Array,
  hooks: (k: number) => { signal?: AbortSignal; onProgress?: (p: ProgressInfo) => void },
  record: (k: number, r: NodeSolve, targetNorm: number, timeMs: number) => void, signal: AbortSignal | undefined,
): Promise<void> {
  // By buffer: two arrays of the forward pass may be views of one buffer (a Flatten's output).
  const posted = new Set<ArrayBufferLike>([x.buffer]);
  const own = <T extends { data: Float32Array | Float64Array }>(m: T): T => {
    if (posted.has(m.data.buffer)) return { ...m, data: m.data.slice() };
    posted.add(m.data.buffer);
    return m;
  };
  const jobs = prepared.map(({ job }) => ({ ...job, input: own(job.input), output: own(job.output) }) as NodeJob);
  const pool = await createLayerPool({ size: workers });
  try {
    await Promise.all(jobs.map(async (job, k) => {
      const started = performance.now();
      try {
        record(k, await solveNodeOnPool(pool, job, hooks(k), true), prepared[k].targetNorm, performance.now() - started);
      } catch (e) {
        if (!(signal?.aborted && (e as Error)?.name === "AbortError")) throw e;
      }
    }));
  } finally {
    await pool.close();
  }
}
