// pruneGraph({keep}) with keepAllocation "per-layer" (parallel mode's default): pruneNetwork's
// allocation (keep-allocation.ts: ladders, greedy walk, reweighting continuation) on a model graph.
// Every pruned node is a program solved on the original graph's signals: a Dense node on a layer
// session, a Conv2D node on a conv session (each rung warm-started from the one before), a
// DepthwiseConv2D node by cold solves at each rung's gain (its solver has no session nor warm
// start). The walk's error: the whole graph run forward on the calibration samples with the
// candidate node's weights replaced, relative to the original graph's outputs (all of them;
// graph-keep-measure.ts, only the nodes downstream of the candidate recomputed).
// In this thread, one node's session at a time.
import { foldBatchNorms } from "./graph/fold-batchnorm.ts";
import { forwardGraph } from "./graph/forward-graph.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "./graph/types.ts";
import { pruneDepthwiseConvLayer } from "../solver/prune-depthwise-layer.ts";
import { frobenius } from "./forward.ts";
import { graphMeasure, withRungs } from "./graph-keep-measure.ts";
import { openNodeSession } from "./graph-density.ts";
import { graphLayerReport, graphOutputError } from "./graph-node-report.ts";
import { consumersOf, programOf, targetOf } from "./graph-programs.ts";
import { calibrationSamples, checkNodeFits, resolveGraphOptions } from "./graph-prune-options.ts";
import { graphGuarantee, INCOMPLETE_ABSENT } from "./graph-guarantee.ts";
import { refitReturned } from "./graph-refit.ts";
import { fromDepthwise, fromLayer, nodeJob, type NodeJob, type NodeSolve } from "./graph-solve.ts";
import { allocateLayers } from "./keep-allocation.ts";
import { sessionSolver, type Hooks, type LayerProgram, type Rung } from "./keep-ladders.ts";
import type { LayerOptions, MatrixInput, ProgressInfo } from "../types.ts";
import type { Tensor } from "../conv-types.ts";
import type { GraphPruneOptions, GraphResult } from "./graph-prune-types.ts";

/** A node's job as a program of the allocation: sessions of rungs with the options given. */
function nodeProgram(job: NodeJob, hooks: Hooks, threads: number | "auto"): LayerProgram<NodeSolve> {
  const options = { ...job.options, threads } as LayerOptions;
  if (job.op === "depthwiseConv2d") {
    return {
      options,
      open: async (o) => ({
        solve: async (gain) => {
          const started = performance.now();
          // o: the job's options (+ threads), without reweight for the ladders.
          const { epsilon: _e, epsilonGain: _g, threads: _t, ...rest } = o as typeof job.options & { threads?: unknown };
          const r = fromDepthwise(await pruneDepthwiseConvLayer(job.input, job.output, { ...rest, ...hooks, epsilonGain: gain }));
          return { gain, ms: performance.now() - started, nnz: r.nnz, result: r };
        },
        close: () => {},
      }),
    };
  }
  return {
    options,
    open: async (o) => {
      const { session, perSolve } = await openNodeSession({ ...job, options: o } as NodeJob);
      return { solve: sessionSolver(session, perSolve, hooks, (r) => { const s = fromLayer(r); return { result: s, nnz: s.nnz }; }), close: () => session.close() };
    },
  };
}

/** pruneGraph's per-layer keep (options checked by pruneGraph: keep in (0, 1], parallel mode). */
export async function allocateGraphKeep(graph: ModelGraph, input: Tensor | MatrixInput, keep: number, options: GraphPruneOptions): Promise<GraphResult> {
  const t0 = performance.now();
  const o = resolveGraphOptions(graph, options);
  const { data: x, samples } = calibrationSamples(graph, input);
  const { graph: folded, folded: foldedBatchNorms } = foldBatchNorms(graph);
  const consumers = consumersOf(folded);
  const shapeOf = new Map(folded.nodes.map((n) => [n.name, n.shape]));
  const targets = folded.nodes.filter((n): n is PrunableNode => isPrunable(n) && o.selected.has(n.name));
  for (const n of targets) checkNodeFits(n, shapeOf.get(n.inputs[0])!, samples, false, o.layerOptions.wUpdate);
  const nodePrograms = targets.map((n) => programOf(folded, n, consumers));
  const original = forwardGraph(folded, [x], samples, { outputsOf: targets.map((n) => n.inputs[0]), preActivationOf: targets.map((n) => n.name) });
  const targetNorms: number[] = [];
  const programs = targets.map((node, k) => {
    const target = targetOf(nodePrograms[k], original.preActivations.get(node.name)!);
    targetNorms.push(frobenius(target));
    const inName = node.inputs[0];
    const job = nodeJob(node, { input: original.values.get(inName)!, inShape: shapeOf.get(inName)!, samples, target }, nodePrograms[k].program, { epsilonGain: o.gainOf(node.name) }, o.layerOptions);
    const hooks: Hooks = {
      signal: options.signal,
      onProgress: options.onProgress
        ? (p: ProgressInfo) => options.onProgress!({ ...p, layer: k, layers: targets.length, name: node.name, phase: "solving" })
        : undefined,
    };
    return nodeProgram(job, hooks, o.threads);
  });
  const parameters = targets.map((n) => n.kernel.length + (n.bias ? n.bias.length : 0));
  const measure = graphMeasure(folded, targets, x, samples, original.outputs);
  const reweighting = (o.layerOptions.reweight?.rounds ?? 0) > 0;
  const allocation = await allocateLayers({ programs, parameters, keep, tolerance: o.densityTolerance, reweighting, measure });
  const execution = { workers: 0, inThread: true, reason: "the keep allocation solves each node's ladder on one session" };
  const reportsOf = (rungs: Rung<NodeSolve>[]) => rungs.map((r, k) => graphLayerReport(targets[k], nodePrograms[k], r.result, targetNorms[k], r.ms));

  // As pruneGraph: an aborted run returns the original graph.
  if ("aborted" in allocation) {
    return {
      graph: { nodes: [...graph.nodes], inputs: [...graph.inputs], outputs: [...graph.outputs] }, status: "aborted", layers: reportsOf(allocation.aborted),
      foldedBatchNorms: [], outputError: graphOutputError(graph, undefined, x, samples), execution,
      guaranteeAbsent: INCOMPLETE_ABSENT, timeMs: performance.now() - t0,
    };
  }
  let layers = reportsOf(allocation.finals);
  let out = withRungs(folded, targets, allocation.finals);
  let refit: GraphResult["refit"];
  const guarantee = graphGuarantee(folded, out, x, samples, layers, "parallel", o.refit); // every rung solved on the original signals
  if (o.refit) ({ graph: out, layers, refit } = refitReturned(folded, out, x, samples, layers, options.onProgress));
  return {
    graph: out,
    status: layers.find((l) => l.status !== "solved")?.status ?? "solved",
    layers,
    ...(refit ? { refit } : {}),
    foldedBatchNorms,
    outputError: graphOutputError(graph, out, x, samples),
    execution,
    keep: allocation.keep,
    ...guarantee,
    timeMs: performance.now() - t0,
  };
}
