// net-trim plan / solve / merge: parallel mode as one job per layer, for any batch system
// (Kubernetes indexed Jobs, Slurm arrays, CI matrices, the queue runner of queue-command.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { createLayerPool, NetTrimError, type DenseNetwork } from "../bindings/index.ts";
import {
  mergeResults, openWorkStore, planNetwork, readManifest, solveJob, solveNext, type SolveJobResult, type WorkStore,
} from "../bindings/node/files.ts";
import { integer, parseCommandLine, parseList, parseNumber, UsageError } from "./arguments.ts";
import { checkFinite, readCalibration } from "./calibration.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { readModelSource } from "./model-source.ts";
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

/** A dense chain read as `net-trim prune` reads it; model graphs are refused. */
function readDenseModel(modelArg: string, command: string) {
  const source = readModelSource(modelArg, { sparseInitializers: false });
  if (source.kind !== "dense") {
    throw new NetTrimError("invalid_option", `${command}: expected a chain of Dense layers (a TF.js model.json), received a model graph (${source.modelPath}): prune it in one process with net-trim prune`);
  }
  return source;
}

// ---------------------------------------------------------------------------------------------

export async function planCommand(positionals: string[], values: Values): Promise<number> {
  only("plan", values, ["calibration", "work", "epsilon-gain", "max-iter", "samples", "force"]);
  if (positionals.length !== 1) throw new UsageError(`plan: expected one model (path to model.json), received ${positionals.length}`);
  if (values.calibration === undefined) throw new UsageError("--calibration: expected a calibration file (.npy or .json), received nothing");
  const store = workStoreOf(values, "plan");
  const epsilonGain = values["epsilon-gain"] === undefined ? undefined : parseList("epsilon-gain", values["epsilon-gain"], "a number ≥ 0", (x) => x >= 0);
  const maxIter = values["max-iter"] === undefined ? undefined : parseNumber("max-iter", values["max-iter"], "an integer ≥ 1", integer(1));
  const samples = values.samples === undefined ? undefined : parseNumber("samples", values.samples, "an integer ≥ 1", integer(1));

  const source = readDenseModel(positionals[0], "plan");
  const network = source.network;
  const calibName = path.basename(values.calibration);
  let calib = readCalibration(values.calibration);
  if (samples !== undefined) {
    if (samples > calib.rows) throw new UsageError(`--samples: expected at most ${calib.rows} (the samples in ${calibName}), received ${samples}`);
    calib = { ...calib, data: calib.data.subarray(0, samples * calib.cols), rows: samples };
  }
  if (calib.cols !== network.inputSize) {
    throw new NetTrimError("shape_mismatch", `${calibName} has ${calib.cols} features per sample but the model's first layer "${network.layers[0].name}" takes ${network.inputSize} inputs`);
  }
  checkFinite(calib, calibName);
  const L = network.layers.length;
  if (Array.isArray(epsilonGain) && epsilonGain.length !== L) {
    throw new UsageError(`--epsilon-gain: expected one value or one per layer (${L}: ${network.layers.map((l) => l.name).join(", ")}), received ${epsilonGain.length} values`);
  }

  const plan = await planNetwork(network, calib, {
    ...(epsilonGain !== undefined ? { epsilonGain } : {}), ...(maxIter !== undefined ? { layerOptions: { maxIter } } : {}), replace: values.force === true,
  }, store);
  // A copy of the model's files, so that merge needs nothing but the folder.
  const modelDir = path.dirname(source.files.modelPath);
  for (const file of [source.files.modelPath, ...source.files.files.flat()]) {
    const rel = path.relative(modelDir, file);
    if (rel.startsWith("..") || path.isAbsolute(rel)) throw new NetTrimError("invalid_option", `plan: the weight file ${file} is outside the model's folder ${modelDir}: keep model.json and its weights in one folder`);
    await store.write(`model/${rel.split(path.sep).join("/")}`, fs.readFileSync(file));
  }
  if (!values.quiet) {
    const what = plan.written ? "planned" : "the folder already holds this plan:";
    process.stderr.write(`net-trim: ${what} ${plan.jobs} jobs (one per layer) in ${store.location} on ${calib.rows} samples; ` +
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
  if (fs.existsSync(path.join(outDir, "model.json")) && !values.force) {
    throw new NetTrimError("invalid_option", `output ${path.join(values.out, "model.json")} already exists: refusing to overwrite it (use --force, or another -o directory)`);
  }
  const modelPath = values.model ?? path.join(store.location, "model", "model.json");
  const source = readDenseModel(modelPath, "merge");
  const network: DenseNetwork = source.network;
  const result = await mergeResults(network, store);
  const manifest = await readManifest(store);
  const report = buildReport(result, {
    model: path.resolve(source.files.modelPath),
    calibration: { file: path.join(store.location, manifest.calibration.file), samples: manifest.calibration.samples, features: manifest.calibration.features, sha256: manifest.calibration.sha256 },
    options: {
      mode: "parallel", epsilonGain: manifest.options.epsilonGain, maxIter: manifest.options.layerOptions.maxIter ?? 2000, refit: false,
      ...(manifest.options.layerOptions.reweight ? { reweight: manifest.options.layerOptions.reweight } : {}), jobs: manifest.layers.length, work: store.location,
    },
    output: { dir: outDir, files: PRUNE_OUTPUT_FILES },
  });
  writeOutput(outDir, values.out, pruneOutputFiles(source.files.modelJson, result, "parallel", report));
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    process.stdout.write(formatTable(report) + "\n");
    process.stdout.write(`wrote ${PRUNE_OUTPUT_FILES.map((f) => path.join(values.out!, f)).join(", ")}\n`);
  }
  return 0;
}
