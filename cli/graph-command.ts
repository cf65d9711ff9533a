// net-trim prune on a model graph (conv nets, functional models): pruneGraph on the work thread
// (parallel mode on --workers pool workers, as for chains), the pruned graph written back under
// the original topology, masks.json and report.json.
import * as os from "node:os";
import * as path from "node:path";
import {
  graphMasksToJson, type GraphPruneOptions, type GraphResult, type ModelGraph, type PruneMode,
} from "../bindings/index.ts";
import type { SampleMatrix } from "../bindings/node/files.ts";
import { UsageError } from "./arguments.ts";
import { writeOutput, type OutputFile } from "./atomic-output.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { progressSink } from "./progress.ts";
import { buildGraphReport, formatGraphTable } from "./graph-report.ts";
import { pruneGraphInWorkThread } from "./work-thread.ts";

/** The pruned graph as the model file(s) of its format. */
type ModelFiles = (graph: ModelGraph, metadata: Record<string, unknown>) => OutputFile[];

interface GraphJob {
  modelPath: string;
  graph: ModelGraph;
  /** The names of the files modelFiles gives (named in the report before they exist). */
  modelFiles: string[];
  modelOutput: ModelFiles;
  calib: SampleMatrix;
  calibName: string;
  calibFile: string;
  outDir: string;
  outArg: string;
  quiet: boolean;
  note: (s: string) => void;
  json: boolean;
}

interface GraphFlags {
  mode: PruneMode;
  epsilonGain?: number | number[];
  density?: number | number[];
  /** --keep: the fraction of all pruned weights kept, allocated per layer (parallel) or at one gain for every layer. */
  keep?: number;
  keepAllocation?: "per-layer" | "common-gain";
  gamma?: number;
  kappa?: number;
  maxIter?: number;
  workers?: number;
  threads?: number;
  /** --reweight / --reweight-delta: 0 rounds is plain l1. */
  reweight: { rounds: number; delta: number };
  /** --refit: the kept weights of Dense, Conv2D and DepthwiseConv2D nodes refitted on their support after pruning. */
  refit: boolean;
}

/** What `net-trim prune` writes for a model graph, and `net-trim merge` of a graph plan exactly the same. */
export function graphOutputFiles(modelOutput: ModelFiles, result: GraphResult, mode: PruneMode, report: unknown): OutputFile[] {
  return [
    ...modelOutput(result.graph, { mode, status: result.status, outputError: result.outputError.relative }),
    { name: "masks.json", contents: () => JSON.stringify(graphMasksToJson(result.graph)) },
    { name: "report.json", contents: () => JSON.stringify(report, null, 2) + "\n" },
  ];
}

/** One value for every prunable layer, or one per prunable layer in graph order (as a record by name). */
function perNode(flag: string, value: number | number[] | undefined, prunable: string[]): number | Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const values = [value].flat();
  if (values.length !== 1 && values.length !== prunable.length) {
    throw new UsageError(`--${flag}: expected one value or one per prunable layer (${prunable.length}: ${prunable.join(", ")}), received ${values.length} values`);
  }
  return values.length === 1 ? values[0] : Object.fromEntries(prunable.map((name, i) => [name, values[i]]));
}

export async function pruneGraphCommand(job: GraphJob, flags: GraphFlags): Promise<number> {
  const prunable = job.graph.nodes.filter((n) => n.op === "dense" || n.op === "conv2d" || n.op === "depthwiseConv2d").map((n) => n.name);
  const epsilonGain = perNode("epsilon-gain", flags.epsilonGain, prunable);
  const density = perNode("keep-per-layer", flags.density, prunable);
  const gains = flags.epsilonGain === undefined ? [0.05] : [flags.epsilonGain].flat();
  // --keep: allocated per layer in parallel mode unless --keep-allocation common-gain (as on chains).
  const keepAllocation = flags.keepAllocation ?? (flags.mode === "parallel" ? "per-layer" : "common-gain");
  const perLayerKeep = flags.keep !== undefined && keepAllocation === "per-layer";
  const budget = flags.keep !== undefined ? `keeping ${+(100 * flags.keep).toPrecision(4)}% of all weights (${perLayerKeep ? "allocated across layers: a ladder of gains per layer" : "one gain for every layer, searched"})`
    : flags.density !== undefined ? `keeping ${[flags.density].flat().map((d) => `${+(100 * d).toPrecision(4)}%`).join(",")} of ${Array.isArray(flags.density) ? "the layers'" : "each layer's"} weights`
    : `epsilon gain ${gains.join(",")}`;

  // As for chains: parallel mode on min(--workers or the hardware threads, prunable layers) workers.
  const workers = flags.mode === "parallel" ? Math.min(flags.workers ?? os.availableParallelism(), prunable.length) : undefined;
  // Layers solved in this thread (cascade, the per-layer keep, or no pool) split their iterations over the CPU threads.
  const inThread = workers === undefined || workers <= 1 || perLayerKeep;
  const threads = inThread ? flags.threads ?? os.availableParallelism() : 1;
  const sink = progressSink(job.quiet, flags.maxIter ?? 2000);
  const options: Omit<GraphPruneOptions, "onProgress" | "signal"> = {
    mode: flags.mode,
    ...(epsilonGain !== undefined ? { epsilonGain } : {}),
    ...(density !== undefined ? { density } : {}),
    ...(flags.keep !== undefined ? { keep: flags.keep, keepAllocation } : {}),
    ...(flags.gamma !== undefined ? { gamma: flags.gamma } : {}),
    ...(flags.kappa !== undefined ? { kappa: flags.kappa } : {}),
    layerOptions: {
      ...(flags.maxIter !== undefined ? { maxIter: flags.maxIter } : {}),
      reweight: flags.reweight,
    },
    ...(workers !== undefined ? { workers } : {}),
    ...(threads > 1 ? { threads } : {}),
    ...(flags.refit ? { refit: true } : {}),
  };
  // The density search runs on the work thread (pruneGraph solves its nodes there).
  const pooled = workers !== undefined && workers > 1 && density === undefined && !perLayerKeep ? ` on ${workers} workers` : threads > 1 ? `, ${threads} threads per layer` : "";
  job.note(`pruning ${job.modelPath} (a model graph, ${prunable.length} prunable layers: ${prunable.join(", ")}) on ${job.calib.rows} samples, ${flags.mode}${pooled}, ${budget}${reweightNote(flags.reweight.rounds)}${flags.refit ? ", then the refit on the support" : ""}`);

  const interrupt = listenForInterrupt(() => sink.clear());
  let result: GraphResult;
  try {
    result = await pruneGraphInWorkThread({ kind: "graph", graph: job.graph, calib: job.calib, options }, (p) => sink.update(p));
  } catch (e) {
    interrupt.dispose();
    throw e;
  } finally {
    sink.clear();
  }
  // From here on no await: a signal is handled after the files are written (see interrupt.ts).
  const files = [...job.modelFiles, "masks.json", "report.json"];
  const report = buildGraphReport(result, {
    model: job.modelPath,
    calibration: { file: path.resolve(job.calibFile), samples: job.calib.rows, features: job.calib.cols },
    options: { mode: flags.mode,
      ...(flags.keep !== undefined ? { keep: flags.keep, keepAllocation } : density !== undefined ? { density } : { epsilonGain: epsilonGain ?? 0.05 }),
      ...(flags.mode === "cascade" ? { gamma: flags.gamma ?? 1.1, kappa: flags.kappa ?? 1 } : {}), maxIter: flags.maxIter ?? 2000,
      reweight: flags.reweight, refit: flags.refit,
    },
    output: { dir: job.outDir, files },
  }, density);
  try {
    writeOutput(job.outDir, job.outArg, graphOutputFiles(job.modelOutput, result, flags.mode, report));
  } finally {
    interrupt.dispose();
  }

  if (job.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    process.stdout.write(formatGraphTable(report) + "\n");
    process.stdout.write(`wrote ${files.map((f) => path.join(job.outArg, f)).join(", ")}\n`);
  }
  const missed = missedTargets(result, density);
  if (missed) job.note(missed);
  const unsolved = result.layers.filter((l) => l.status !== "solved");
  if (unsolved.length > 0) job.note(`${unsolved.map((l) => `${l.name} ended ${l.status}`).join(", ")} (not fully converged: the error or sparsity may be off target)`);
  return 0;
}

/** A note when --keep or --keep-per-layer ended outside the 5% tolerance (the reached values are in the table and report). */
function missedTargets(result: GraphResult, density: number | Record<string, number> | undefined): string | undefined {
  const k = result.keep;
  if (k && Math.abs(k.keptFraction - k.target) > 0.05 * k.target) {
    const closest = k.allocation === "common-gain" ? `the closest of ${k.probes.length} gains tried` : "the closest the per-layer allocation reached";
    return `--keep ${k.target}: kept ${(100 * k.keptFraction).toFixed(2)}% of all weights, ${closest} (the target is out of reach at these samples or iterations)`;
  }
  if (density === undefined) return undefined;
  const off = result.layers.filter((l) => {
    const d = typeof density === "number" ? density : density[l.name];
    return Math.abs(l.keptFraction - d) > 0.05 * d;
  });
  return off.length > 0 ? `--keep-per-layer: ${off.map((l) => `${l.name} kept ${(100 * l.keptFraction).toFixed(2)}%`).join(", ")}, the closest the search reached (the target is out of reach at these samples or iterations)` : undefined;
}

/** ", 3 reweighting rounds" (", plain l1" for none) for the progress note; the chain command says the same. */
export function reweightNote(rounds: number): string {
  return rounds > 0 ? `, ${rounds} reweighting round${rounds > 1 ? "s" : ""}` : ", plain l1";
}
