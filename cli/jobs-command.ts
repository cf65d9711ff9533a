// net-trim plan / solve / merge: parallel mode as one job per layer, for any batch system
// (Kubernetes indexed Jobs, Slurm arrays, CI matrices, the queue runner of queue-command.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { createLayerPool, DEFAULTS, isPrunable, NetTrimError, type ModelGraph } from "../bindings/index.ts";
import {
  mergeGraphResults, mergeResults, openWorkStore, planGraph, planNetwork, readLayersModelBytes, readManifest, readOnnxModelFile, solveJob, solveNext, type SolveJobResult, type WorkStore,
} from "../bindings/node/files.ts";
import { integer, parseCommandLine, parseList, parseNumber, reweightOf, UsageError } from "./arguments.ts";
import { checkFinite, readCalibration } from "./calibration.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { MODEL_FILE, modelFormatOf, readModelSource } from "./model-source.ts";
import { graphOutputFiles } from "./graph-command.ts";
import { buildGraphReport, formatGraphTable } from "./graph-report.ts";
import { writeOutput } from "./atomic-output.ts";
import { checkOutputFolder } from "./output-folder.ts";
import { PRUNE_OUTPUT_FILES, pruneOutputFiles } from "./prune-output.ts";
import { buildReport, formatTable } from "./report.ts";

export type Values = ReturnType<typeof parseCommandLine>["values"];

/** The flags a command takes besides --quiet/--json/--help; any other one is refused by name. */
export function only(command: string, values: Values, allowed: string[]): void {
  for (const [flag, v] of Object.entries(values)) {
    if (v === undefined || ["quiet", "json", "help", "version", ...allowed].includes(flag)) continue;
    throw new UsageError(`--${flag}: not an option of ${command} (it takes ${allowed.map((f) => `--${f}`).join(", ")})`);
  }
}

export function workStoreOf(values: Values, command: string): WorkStore {
  if (values.work === undefined) throw new UsageError(`--work: expected the work folder of ${command} (a path or a file:// URL), received nothing`);
  return openWorkStore(values.work);
}

/** A copy of the model's files in the work folder (model/), so that merge needs nothing but the folder. */
async function copyModel(store: WorkStore, modelArg: string): Promise<void> {
  const format = modelFormatOf(modelArg);
  if (format !== "tfjs") {
    await store.write(`model/${MODEL_FILE[format]}`, fs.readFileSync(path.resolve(modelArg)));
    // ONNX weights in external data files: each beside the copy, under the name the model gives it.
    if (format === "onnx") {
      const dir = path.dirname(path.resolve(modelArg));
      for (const location of readOnnxModelFile(modelArg).externalFiles) {
        await store.write(`model/${location.split(path.sep).join("/")}`, fs.readFileSync(path.resolve(dir, location)));
      }
    }
    return;
  }
  const files = readLayersModelBytes(modelArg);
  const modelDir = path.dirname(files.modelPath);
  for (const file of [files.modelPath, ...files.files.flat()]) {
    const rel = path.relative(modelDir, file);
    if (rel.startsWith("..") || path.isAbsolute(rel)) throw new NetTrimError("invalid_option", `plan: the weight file ${file} is outside the model's folder ${modelDir}: keep model.json and its weights in one folder`);
    await store.write(`model/${rel.split(path.sep).join("/")}`, fs.readFileSync(file));
  }
}

/** The model merge reads: --model, or the copy plan made (model/model.json, .onnx or .ntz). */
function plannedModel(store: WorkStore, given: string | undefined): string {
  if (given !== undefined) return given;
  const copies = Object.values(MODEL_FILE).map((f) => path.join(store.location, "model", f));
  return copies.find((f) => fs.existsSync(f)) ?? copies[0];
}

/** --epsilon-gain for a graph: one gain, or one per prunable node (by name, as net-trim prune takes it). */
function graphGains(graph: ModelGraph, gains: number | number[] | undefined): number | Record<string, number> | undefined {
  if (gains === undefined || !Array.isArray(gains)) return gains;
  const prunable = graph.nodes.filter(isPrunable).map((n) => n.name);
  if (gains.length === 1) return gains[0];
  if (gains.length !== prunable.length) {
    throw new UsageError(`--epsilon-gain: expected one value or one per prunable layer (${prunable.length}: ${prunable.join(", ")}), received ${gains.length} values`);
  }
  return Object.fromEntries(prunable.map((name, i) => [name, gains[i]]));
}

// ---------------------------------------------------------------------------------------------

export async function planCommand(positionals: string[], values: Values): Promise<number> {
  only("plan", values, ["calibration", "work", "epsilon-gain", "max-iter", "samples", "force", "reweight", "reweight-delta"]);
  if (positionals.length !== 1) throw new UsageError(`plan: expected one model (a TF.js model.json, an ONNX model or a .ntz file), received ${positionals.length}`);
  if (values.calibration === undefined) throw new UsageError("--calibration: expected a calibration file (.npy or .json), received nothing");
  const store = workStoreOf(values, "plan");
  const gainList = values["epsilon-gain"] === undefined ? undefined : parseList("epsilon-gain", values["epsilon-gain"], "a number ≥ 0", (x) => x >= 0);
  const maxIter = values["max-iter"] === undefined ? undefined : parseNumber("max-iter", values["max-iter"], "an integer ≥ 1", integer(1));
  const samples = values.samples === undefined ? undefined : parseNumber("samples", values.samples, "an integer ≥ 1", integer(1));
  const reweight = reweightOf(values.reweight, values["reweight-delta"]);

  const source = readModelSource(positionals[0], { sparseInitializers: false });
  const calibName = path.basename(values.calibration);
  let calib = readCalibration(values.calibration);
  if (samples !== undefined) {
    if (samples > calib.rows) throw new UsageError(`--samples: expected at most ${calib.rows} (the samples in ${calibName}), received ${samples}`);
    calib = { ...calib, data: calib.data.subarray(0, samples * calib.cols), rows: samples };
  }
  // As prune: 3 reweighting rounds unless --reweight says otherwise (0: plain l1); merge reads the choice from the manifest.
  const layerOptions = { layerOptions: { ...(maxIter !== undefined ? { maxIter } : {}), reweight } };
  let plan;
  if (source.kind === "graph") {
    const x = source.samplesFor(calib, calibName);
    checkFinite(x, calibName);
    const epsilonGain = graphGains(source.graph, gainList);
    plan = await planGraph(source.graph, { data: x.data, rows: x.rows, cols: x.cols }, {
      ...(epsilonGain !== undefined ? { epsilonGain } : {}), ...layerOptions, replace: values.force === true,
    }, store);
  } else {
    const network = source.network;
    if (calib.cols !== network.inputSize) {
      throw new NetTrimError("shape_mismatch", `${calibName} has ${calib.cols} features per sample but the model's first layer "${network.layers[0].name}" takes ${network.inputSize} inputs`);
    }
    checkFinite(calib, calibName);
    const L = network.layers.length;
    if (Array.isArray(gainList) && gainList.length !== L) {
      throw new UsageError(`--epsilon-gain: expected one value or one per layer (${L}: ${network.layers.map((l) => l.name).join(", ")}), received ${gainList.length} values`);
    }
    plan = await planNetwork(network, calib, { ...(gainList !== undefined ? { epsilonGain: gainList } : {}), ...layerOptions, replace: values.force === true }, store);
  }
  await copyModel(store, positionals[0]);
  if (!values.quiet) {
    const what = plan.written ? "planned" : "the folder already holds this plan:";
    process.stderr.write(`net-trim: ${what} ${plan.jobs} jobs (one per ${source.kind === "graph" ? "prunable node" : "layer"}) in ${store.location} on ${calib.rows} samples; ` +
      `run net-trim solve --work ${store.location} --layer <0..${plan.jobs - 1}> (or --next), then net-trim merge --work ${store.location} -o <outDir>\n`);
  }
  process.stdout.write(`${plan.jobs}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

const describeSolve = (r: SolveJobResult) =>
  `layer ${r.layer} (${r.name}): ${r.status}, ${r.iterations} iterations, ${(r.wallMs / 1000).toFixed(2)} s → results/layer-${r.layer}.npy`;

export async function solveCommand(positionals: string[], values: Values): Promise<number> {
  only("solve", values, ["work", "layer", "next", "until-done", "stale-after"]);
  if (positionals.length > 0) throw new UsageError(`solve: expected no positional argument (the problem is in --work), received ${positionals.map((p) => JSON.stringify(p)).join(" ")}`);
  const store = workStoreOf(values, "solve");
  if ((values.layer === undefined) === (values.next !== true)) throw new UsageError("solve: expected --layer <i> or --next, received " + (values.layer === undefined ? "neither" : "both"));
  if (values["until-done"] && !values.next) throw new UsageError("--until-done: only with --next");
  if (values["stale-after"] !== undefined && !values.next) throw new UsageError("--stale-after: only with --next");
  const staleAfterMs = values["stale-after"] === undefined ? undefined : 1000 * parseNumber("stale-after", values["stale-after"], "a number of seconds > 0", (x) => x > 0);
  const layer = values.layer === undefined ? undefined : parseNumber("layer", values.layer, "a layer index (an integer ≥ 0)", integer(0));
  // A signal exits at once (interrupt.ts): a result is written by rename, so none is half-written;
  // the claim of the layer being solved is taken over once stale (--stale-after).
  const interrupt = listenForInterrupt(() => undefined);
  // One solve thread for all the layers this process takes.
  const pool = await createLayerPool({ size: 1 });
  try {
    let solved = 0;
    for (;;) {
      const r = layer !== undefined ? await solveJob(store, layer, { pool })
        : await solveNext(store, { pool, ...(staleAfterMs !== undefined ? { staleAfterMs } : {}) });
      if (!r) break;
      process.stdout.write(describeSolve(r) + "\n");
      solved++;
      if (!values["until-done"]) break;
    }
    if (solved === 0) process.stdout.write("nothing left to solve: every layer has a result or is being solved\n");
    return 0;
  } finally {
    interrupt.dispose();
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------

export async function mergeCommand(positionals: string[], values: Values): Promise<number> {
  only("merge", values, ["work", "out", "model", "force"]);
  if (positionals.length > 0) throw new UsageError(`merge: expected no positional argument (the model is in --work, or give --model), received ${positionals.map((p) => JSON.stringify(p)).join(" ")}`);
  const store = workStoreOf(values, "merge");
  if (values.out === undefined) throw new UsageError("-o/--out: expected an output directory, received nothing");
  const outDir = checkOutputFolder(values.out);
  const modelPath = plannedModel(store, values.model);
  const modelFile = MODEL_FILE[modelFormatOf(modelPath)];
  if (fs.existsSync(path.join(outDir, modelFile)) && !values.force) {
    throw new NetTrimError("invalid_option", `output ${path.join(values.out, modelFile)} already exists: refusing to overwrite it (use --force, or another -o directory)`);
  }
  const source = readModelSource(modelPath, { sparseInitializers: false });
  const manifest = await readManifest(store);
  const context = {
    model: path.resolve(source.kind === "graph" ? source.modelPath : source.files.modelPath),
    calibration: { file: path.join(store.location, manifest.calibration.file), samples: manifest.calibration.samples, features: manifest.calibration.features, sha256: manifest.calibration.sha256 },
    options: {
      mode: "parallel", epsilonGain: manifest.options.epsilonGain, maxIter: manifest.options.layerOptions.maxIter ?? 2000, refit: false,
      reweight: manifest.options.layerOptions.reweight ?? PLAIN_L1, jobs: manifest.layers.length, work: store.location,
    },
  };
  let written: string[];
  if (source.kind === "graph") {
    const result = await mergeGraphResults(source.graph, store);
    written = [...source.modelFiles, "masks.json", "report.json"];
    const report = buildGraphReport(result, { ...context, output: { dir: outDir, files: written } });
    writeOutput(outDir, values.out, graphOutputFiles((g, meta) => source.files(g, meta), result, "parallel", report));
    if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else process.stdout.write(formatGraphTable(report) + "\n");
  } else {
    const result = await mergeResults(source.network, store);
    written = PRUNE_OUTPUT_FILES;
    const report = buildReport(result, { ...context, output: { dir: outDir, files: written } });
    writeOutput(outDir, values.out, pruneOutputFiles(source.files.modelJson, result, "parallel", report));
    if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else process.stdout.write(formatTable(report) + "\n");
  }
  if (!values.json) process.stdout.write(`wrote ${written.map((f) => path.join(values.out!, f)).join(", ")}\n`);
  return 0;
}

/** A plan without reweighting, as prune's report.json states plain l1 (the manifest holds a reweighting resolved). */
const PLAIN_L1 = { rounds: 0, delta: DEFAULTS.reweightDelta };
