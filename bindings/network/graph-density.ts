// pruneGraph's density target: a node's budget searched until the node keeps the requested
// fraction of its parameters (density-search.ts, pruneNetwork's search). A Dense node is searched
// on a layer session as pruneNetwork searches a Dense layer, a Conv2D node the same way on a conv
// session (openConvSession), each probe warm-started from the nearest one. A DepthwiseConv2D node:
// the same search over the node's whole ε, each probe a full depthwise solve (its channels get
// ε_c = ε·‖Y_c‖/‖Y‖ as always), solved cold (the depthwise solver takes no warm start).
import { openConvSession } from "../solver/prune-conv-layer.ts";
import { pruneDepthwiseConvLayer } from "../solver/prune-depthwise-layer.ts";
import { openLayerSession, type LayerSession } from "../solver/prune-layer.ts";
import { frobenius } from "./forward.ts";
import { searchBudget, searchDensity, sessionOptions } from "./density-search.ts";
import { fromDepthwise, fromLayer, type Hooks, type NodeJob, type NodeSolve } from "./graph-solve.ts";
import type { LayerOptions } from "../types.ts";

/**
 * Solves the node's job (its budget ignored) at the budget epsilonFloor + t whose kept share of
 * the node's parameters is within tolerance·density of `density` (the closest found otherwise).
 * In this thread; `threads` reaches the solves as pruneNetwork's density search passes it.
 */
export async function solveNodeToDensity(
  job: NodeJob, density: number, tolerance: number, epsilonFloor: number, hooks: Hooks, threads: number | "auto",
): Promise<NodeSolve> {
  const fitBias = job.options.fitBias !== false;
  if (job.op === "depthwiseConv2d") {
    const { epsilonGain: _g, epsilon: _e, ...options } = job.options;
    return searchBudget(frobenius(job.output.data as Float32Array), density, tolerance, fitBias, epsilonFloor, async (epsilon) =>
      fromDepthwise(await pruneDepthwiseConvLayer(job.input, job.output, { ...options, ...hooks, epsilon })));
  }
  const { session, perSolve } = await openNodeSession(job);
  try {
    const output = job.output.data as Float32Array;
    return fromLayer(await searchDensity(session, density, tolerance, output, { ...perSolve, ...hooks, threads }, epsilonFloor, fitBias));
  } finally {
    session.close();
  }
}

/** A session on a Dense or Conv2D node's job (its budget ignored; not a DepthwiseConv2D node's) and the options each solve takes. */
export async function openNodeSession(job: NodeJob): Promise<{ session: LayerSession; perSolve: LayerOptions }> {
  if (job.op === "dense") {
    const { fixed, perSolve } = sessionOptions(job.options);
    return { session: await openLayerSession(job.input, job.output, fixed), perSolve };
  }
  const { kernelSize, strides, padding, dilation, wUpdate, upperBound, ...layer } = job.options;
  const { fixed, perSolve } = sessionOptions(layer);
  return { session: await openConvSession(job.input, job.output, { ...fixed, upperBound, kernelSize, strides, padding, dilation, wUpdate }), perSolve };
}
