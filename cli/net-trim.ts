#!/usr/bin/env node
// net-trim: the command-line tool (the package's `bin`).
//   net-trim prune <model.json> --calibration <calib.npy|calib.json> -o <outDir> [options]
// Reads a TF.js LayersModel and calibration samples, prunes with pruneNetwork and writes the
// pruned model (model.json + weights.bin), masks.json and report.json into outDir.
// Order: every flag parsed, then every input checked (output folder, model, calibration against
// the model), then the work (on a work thread), then the files written all at once.
// Exit codes: 0 done, 1 data/model/output error, 2 usage error, 130 interrupted (143 on SIGTERM;
// nothing written).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  encodeCompact, LIMITS, masksToJson, NetTrimError, writeLayersModel,
  type NetworkOptions, type NetworkResult, type PruneMode,
} from "../bindings/index.ts";
import { mergeCommand, planCommand, solveCommand } from "./jobs-command.ts";
import { queueCommand } from "./queue-command.ts";
import { pruneGraphCommand, reweightNote } from "./graph-command.ts";
import { checkWritable, layersModelFiles, MODEL_FILE, modelFormatOf, readModelSource } from "./model-source.ts";
import { integer, parseCommandLine, parseKeepAllocation, parseList, parseNumber, reweightOf, UsageError, USAGE } from "./arguments.ts";
import { writeOutput } from "./atomic-output.ts";
import { pruneOutputFiles } from "./prune-output.ts";
import { checkFinite, readCalibration } from "./calibration.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { checkOutputFolder } from "./output-folder.ts";
import { progressSink } from "./progress.ts";
import { buildReport, formatTable, packageVersion } from "./report.ts";
import { pruneNetworkInWorkThread } from "./work-thread.ts";

// ---------------------------------------------------------------------------------------------
// net-trim prune

async function prune(positionals: string[], values: ReturnType<typeof parseCommandLine>["values"]): Promise<number> {
  if (positionals.length === 0) throw new UsageError("prune: expected a model (path to model.json), received nothing");
  if (positionals.length > 1) throw new UsageError(`prune: expected one model path, received ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(" ")}`);
  const modelArg = positionals[0];
  if (values.calibration === undefined) throw new UsageError("--calibration: expected a calibration file (.npy or .json), received nothing");
  if (values.out === undefined) throw new UsageError("-o/--out: expected an output directory, received nothing");

  const mode = (values.mode ?? "parallel") as PruneMode;
  if (mode !== "parallel" && mode !== "cascade") throw new UsageError(`--mode: expected parallel or cascade, received ${JSON.stringify(values.mode)}`);
  if (values.sparsity !== undefined) {
    const v = values.sparsity;
    throw new UsageError(`--sparsity: refused as ambiguous (here it meant the fraction of weights KEPT; other pruners read sparsity 0.9 as 90% zeros): write --keep-per-layer ${v} to keep ${v} of each layer's weights, or --keep ${v} to keep ${v} of all weights`);
  }
  const budgets = (["epsilon-gain", "keep", "keep-per-layer"] as const).filter((f) => values[f] !== undefined);
  if (budgets.length > 1) throw new UsageError(`--${budgets[1]}: expected one of --epsilon-gain, --keep, --keep-per-layer, received --${budgets.join(" and --")}`);
  const epsilonGain = values["epsilon-gain"] === undefined ? undefined
    : parseList("epsilon-gain", values["epsilon-gain"], "a number ≥ 0", (x) => x >= 0);
  const density = values["keep-per-layer"] === undefined ? undefined
    : parseList("keep-per-layer", values["keep-per-layer"], "a fraction of weights kept in (0, 1], e.g. 0.1 or 10%", (x) => x > 0 && x <= 1, true);
  const keep = values.keep === undefined ? undefined
    : parseNumber("keep", values.keep, "a fraction of all weights kept in (0, 1], e.g. 0.1 or 10%", (x) => x > 0 && x <= 1, true);
  const keepAllocation = parseKeepAllocation(values["keep-allocation"], keep, mode);
  const gamma = values.gamma === undefined ? undefined : parseNumber("gamma", values.gamma, "a number ≥ 1", (x) => x >= 1);
  const kappa = values.kappa === undefined ? undefined : parseNumber("kappa", values.kappa, "a number in (0, 1]", (x) => x > 0 && x <= 1);
  const maxIter = values["max-iter"] === undefined ? undefined : parseNumber("max-iter", values["max-iter"], `an integer from 1 to ${LIMITS.maxIter}`, integer(1, LIMITS.maxIter));
  const workersArg = values.workers === undefined ? undefined : parseNumber("workers", values.workers, `an integer from 0 to ${LIMITS.workers}`, integer(0, LIMITS.workers));
  const threads = values.threads === undefined ? undefined : parseNumber("threads", values.threads, `an integer from 1 to ${LIMITS.threads}`, integer(1, LIMITS.threads));
  const samples = values.samples === undefined ? undefined : parseNumber("samples", values.samples, "an integer ≥ 1", integer(1));
  const reweight = reweightOf(values.reweight, values["reweight-delta"]);
  if (mode !== "cascade" && (gamma !== undefined || kappa !== undefined)) {
    throw new UsageError(`--${gamma !== undefined ? "gamma" : "kappa"}: only used with --mode cascade, received --mode ${mode}`);
  }

  // The output folder: a folder, or creatable; writable; on an ordinary filesystem (output-folder.ts).
  const outDir = checkOutputFolder(values.out);
  const format = modelFormatOf(modelArg);
  const modelFile = MODEL_FILE[format];
  if (fs.existsSync(path.join(outDir, modelFile)) && !values.force) {
    throw new NetTrimError("invalid_option", `output ${path.join(values.out, modelFile)} already exists: refusing to overwrite it (use --force, or another -o directory)`);
  }
  if (values["sparse-initializers"] && modelFile !== "model.onnx") {
    throw new UsageError("--sparse-initializers: only for ONNX models (a TF.js model.json is written dense, loadable by TF.js as it is)");
  }

  const quiet = values.quiet === true;
  const note = (s: string) => { if (!quiet) process.stderr.write(`net-trim: ${s}\n`); };

  // --compact: model.ntz too (a compact input is written back as model.ntz anyway).
  const compactValues = values["compact-float16"] ? "float16" as const : values.compact ? "float32" as const : undefined;
  const alsoCompact = compactValues !== undefined && format !== "compact";
  const source = readModelSource(modelArg, { sparseInitializers: values["sparse-initializers"] === true, ...(compactValues ? { compactValues } : {}) });
  checkWritable(source, modelArg);
  const calibName = path.basename(values.calibration);
  let calib = readCalibration(values.calibration);
  if (samples !== undefined) {
    if (samples > calib.rows) throw new UsageError(`--samples: expected at most ${calib.rows} (the samples in ${calibName}), received ${samples}`);
    calib = { ...calib, data: calib.data.subarray(0, samples * calib.cols), rows: samples };
  }
  const refit = values.refit === true;
  if (source.kind === "graph") {
    const samplesOfGraph = source.samplesFor(calib, calibName);
    checkFinite(samplesOfGraph, calibName);
    return pruneGraphCommand({
      modelPath: source.modelPath, graph: source.graph, modelFiles: [...source.modelFiles, ...(alsoCompact ? [MODEL_FILE.compact] : [])],
      modelOutput: (g, meta) => [
        ...source.files(g, meta),
        ...(alsoCompact ? [{ name: MODEL_FILE.compact, contents: () => encodeCompact(g, { values: compactValues }) }] : []),
      ],
      calib: samplesOfGraph, calibName, calibFile: values.calibration, outDir, outArg: values.out, quiet, note, json: values.json === true,
    }, { mode, epsilonGain, density, keep, keepAllocation, gamma, kappa, maxIter, workers: workersArg, threads, reweight: { rounds: reweight.rounds, delta: reweight.delta }, refit });
  }
  const network = source.network;
  const model = source.files;
  const L = network.layers.length;
  if (calib.cols !== network.inputSize) {
    throw new NetTrimError("shape_mismatch",
      `${calibName} has ${calib.cols} features per sample (shape [${calib.rows}, ${calib.cols}]) but the model's first layer "${network.layers[0].name}" takes ${network.inputSize} inputs`);
  }
  checkFinite(calib, calibName);
  const layerNames = network.layers.map((l) => l.name).join(", ");
  for (const [flag, v] of [["epsilon-gain", epsilonGain], ["keep-per-layer", density]] as const) {
    if (Array.isArray(v) && v.length !== L) {
      throw new UsageError(`--${flag}: expected one value or one per layer (${L}: ${layerNames}), received ${v.length} values`);
    }
  }
  const workers = mode === "parallel" ? Math.min(workersArg ?? os.availableParallelism(), L) : undefined;
  // As for graphs: layers solved in this thread (cascade, or no pool) split their iterations over the CPU threads.
  const layerThreads = workers === undefined || workers <= 1 ? threads ?? os.availableParallelism() : 1;

  const sink = progressSink(quiet, maxIter ?? 2000);
  const options: Omit<NetworkOptions, "onProgress" | "signal"> = {
    mode,
    ...(epsilonGain !== undefined ? { epsilonGain } : {}),
    ...(density !== undefined ? { density } : {}),
    ...(keep !== undefined ? { keep } : {}),
    ...(keepAllocation !== undefined ? { keepAllocation } : {}),
    ...(gamma !== undefined ? { gamma } : {}),
    ...(kappa !== undefined ? { kappa } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(layerThreads > 1 ? { threads: layerThreads } : {}),
    layerOptions: { ...(maxIter !== undefined ? { maxIter } : {}), reweight: { rounds: reweight.rounds, delta: reweight.delta } },
    ...(refit ? { refit } : {}),
  };
  const shape = [network.inputSize, ...network.layers.map((l) => l.units)].join("-");
  const budget = keep !== undefined ? `keeping ${+(100 * keep).toPrecision(4)}% of all weights (${mode === "parallel" && keepAllocation !== "common-gain" ? "allocated across layers by a search over per-layer gains" : "one gain for every layer, searched"})`
    : density !== undefined
    ? `keeping ${[density].flat().map((d) => `${+(100 * d).toPrecision(4)}%`).join(",")} of ${Array.isArray(density) ? "the layers'" : "each layer's"} weights`
    : `epsilon gain ${[epsilonGain ?? 0.05].flat().join(",")}`;
  // The pool runs budget solves only (the density search stays on the work thread).
  const pooled = workers !== undefined && workers > 1 && density === undefined;
  const split = pooled ? ` on ${workers} workers` : layerThreads > 1 ? `, ${layerThreads} threads per layer` : "";
  note(`pruning ${modelArg} (${shape}, ${L} Dense layers) on ${calib.rows} samples, ${mode}${split}, ${budget}${reweightNote(reweight.rounds)}${refit ? ", then a refit on the support" : ""}`);

  const interrupt = listenForInterrupt(() => sink.clear());
  let result: NetworkResult;
  try {
    result = await pruneNetworkInWorkThread({ kind: "network", network, calib, options }, (p) => sink.update(p));
  } catch (e) {
    interrupt.dispose();
    throw e;
  } finally {
    sink.clear();
  }
  // From here on no await: a signal is handled after the files are written (see interrupt.ts).

  const writtenFiles = ["model.json", "weights.bin", ...(alsoCompact ? [MODEL_FILE.compact] : []), "masks.json", "report.json"];
  const report = buildReport(result, {
    model: path.resolve(model.modelPath),
    calibration: { file: path.resolve(values.calibration), samples: calib.rows, features: calib.cols },
    options: {
      mode,
      ...(keep !== undefined ? { keep, keepAllocation: keepAllocation ?? (mode === "parallel" ? "per-layer" : "common-gain") } : density !== undefined ? { density } : { epsilonGain: epsilonGain ?? 0.05 }),
      ...(mode === "cascade" ? { gamma: gamma ?? 1.1, kappa: kappa ?? 1 } : {}),
      maxIter: maxIter ?? 2000,
      refit,
      reweight: { rounds: reweight.rounds, delta: reweight.delta },
      ...(mode === "parallel" ? { workers: pooled ? workers : 0 } : {}),
    },
    output: { dir: outDir, files: writtenFiles },
  });
  try {
    writeOutput(outDir, values.out, pruneOutputFiles(model.modelJson, result, mode, report,
      alsoCompact ? [{ name: MODEL_FILE.compact, contents: () => encodeCompact(result.network, { values: compactValues }) }] : []));
  } finally {
    interrupt.dispose();
  }

  if (values.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    process.stdout.write(formatTable(report) + "\n");
    process.stdout.write(`wrote ${writtenFiles.map((f) => path.join(values.out!, f)).join(", ")}\n`);
  }
  if (result.keep && Math.abs(result.keep.keptFraction - result.keep.target) > 0.05 * result.keep.target) {
    note(`--keep ${result.keep.target}: kept ${(100 * result.keep.keptFraction).toFixed(2)}% of all weights, ${result.keep.allocation === "common-gain" ? `the closest of ${result.keep.probes.length} gains tried` : `the closest the per-layer ladders reached (gains ${result.keep.gains.map((g) => +g.toPrecision(3)).join(", ")})`} (the target is out of reach at these samples or iterations)`);
  }
  const unsolved = result.layers.filter((l) => l.status !== "solved");
  if (unsolved.length > 0) {
    const what = unsolved.map((l) => `${l.name} ended ${l.status}`).join(", ");
    const hint = unsolved.some((l) => l.status === "max_iter_reached" || l.status === "solved_inaccurate") ? "; raise --max-iter" : "";
    note(`${what} (not fully converged: the error or sparsity may be off target${hint})`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === "plan") return planCommand(rest, values);
  if (command === "solve") return solveCommand(rest, values);
  if (command === "merge") return mergeCommand(rest, values);
  if (command === "queue") return queueCommand(rest, values);
  if (command !== "prune") throw new UsageError(`unknown command ${JSON.stringify(command)}: expected prune, plan, solve, merge or queue`);
  return prune(rest, values);
}

function fail(e: unknown): number {
  const debug = process.env.NET_TRIM_DEBUG === "1";
  const err = e instanceof Error ? e : new Error(String(e));
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ");
  if (e instanceof UsageError) {
    process.stderr.write(`net-trim: ${oneLine(err.message)} (see net-trim --help)\n`);
    if (debug) process.stderr.write(`${err.stack}\n`);
    return 2;
  }
  if (e instanceof NetTrimError) process.stderr.write(`net-trim: ${oneLine(err.message)}\n`);
  else {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`net-trim: ${typeof code === "string" && !oneLine(err.message).includes(code) ? `${code}: ` : ""}${oneLine(err.message)}\n`);
  }
  if (debug) process.stderr.write(`${err.stack}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.exitCode = fail(e); },
);

