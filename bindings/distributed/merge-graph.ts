// mergeGraphResults: a graph plan's solved jobs assembled into the GraphResult pruneGraph's
// parallel mode returns, bit for bit: BatchNorms folded as pruneGraph folds them, each pruned
// node's weights from its checked result, the reports and the output error computed the same
// way (graph-node-report.ts). Nothing is merged from a missing, altered or foreign result.
import { WorkFolderError } from "../errors.ts";
import { buildGraph } from "../network/graph/build.ts";
import { foldBatchNorms } from "../network/graph/fold-batchnorm.ts";
import { isPrunable, type GraphNode, type ModelGraph, type PrunableNode } from "../network/graph/types.ts";
import { graphLayerReport, graphOutputError } from "../network/graph-node-report.ts";
import { graphGuarantee } from "../network/graph-guarantee.ts";
import { consumersOf, programOf } from "../network/graph-programs.ts";
import type { GraphLayerReport, GraphResult } from "../network/graph-prune-types.ts";
import type { NodeSolve } from "../network/graph-solve.ts";
import { decodeInfo, decodeValues, graphHash, MANIFEST } from "./format.ts";
import { checkAllSolved, checkPlanOf } from "./merge.ts";
import { readChecked, readManifest, readResult, readTiming } from "./problem.ts";
import { openWorkStore, type WorkLocation } from "./store.ts";

const NO_TIMING = { setupMs: NaN, solveMs: NaN, totalMs: NaN };

export async function mergeGraphResults(graph: ModelGraph, work: WorkLocation): Promise<GraphResult> {
  const t0 = performance.now();
  const store = openWorkStore(work);
  const manifest = await readManifest(store);
  checkPlanOf(store, manifest, graphHash(graph), "graph");
  await checkAllSolved(store, manifest);

  const { graph: folded, folded: foldedBatchNorms } = foldBatchNorms(graph);
  const consumers = consumersOf(folded);
  const byName = new Map(folded.nodes.map((n) => [n.name, n]));
  const reports: GraphLayerReport[] = [];
  const replaced = new Map<string, GraphNode>();
  for (const [i, entry] of manifest.layers.entries()) {
    const node = byName.get(entry.name);
    if (!node || !isPrunable(node)) throw new WorkFolderError(`${store.location}/${MANIFEST}`, "nodes of this graph", `node "${entry.name}"`);
    const record = (await readResult(store, manifest, i))!;
    const wBar = await readChecked(store, record.weights, `the file was altered or corrupted after the solve: run net-trim solve --work ${store.location} --layer ${i} again`);
    const timing = await readTiming(store, i);
    const summary = decodeValues(record.summary ?? {}) as Pick<NodeSolve, "epsilon" | "outputError" | "nnz" | "iterations">;
    const r: NodeSolve = {
      status: record.status, weights: wBar.slice(0, node.kernel.length), bias: wBar.slice(node.kernel.length), ...summary,
      ...(record.info ? { info: decodeInfo(record.info, timing ?? NO_TIMING) } : {}),
      ...(record.channels ? { channels: record.channels.map((c, j) => decodeInfo(c, timing?.channels?.[j] ?? NO_TIMING)) } : {}),
    };
    reports.push(graphLayerReport(node as PrunableNode, programOf(folded, node, consumers), r, entry.targetNorm, timing?.wallMs ?? NaN));
    replaced.set(node.name, { ...node, kernel: r.weights, bias: node.bias ? r.bias : null });
  }
  const out = buildGraph(folded.nodes.map((n) => replaced.get(n.name) ?? n), folded.inputs, folded.outputs);
  const x = await readChecked(store, manifest.calibration, "the plan's calibration file was altered or corrupted: plan again");
  return {
    graph: out,
    status: reports.find((r) => r.status !== "solved")?.status ?? "solved",
    layers: reports,
    foldedBatchNorms,
    outputError: graphOutputError(graph, out, x, manifest.calibration.samples),
    execution: { workers: 0, inThread: false, reason: `per-node jobs (plan, solve, merge) in ${store.location}` },
    ...graphGuarantee(folded, out, x, manifest.calibration.samples, reports, "parallel", false),
    timeMs: performance.now() - t0,
  };
}
