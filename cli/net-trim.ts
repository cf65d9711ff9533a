#!/usr/bin/env node
// net-trim: the command-line tool (the package's `bin`).
//   net-trim prune <model.json> --calibration <calib.npy|calib.json> -o <outDir> [options]
// Reads a TF.js LayersModel and calibration samples, prunes with pruneNetwork and writes the
// pruned model (model.json + weights.bin), masks.json and report.json into outDir.
// Exit codes: 0 done, 1 data/model error, 2 usage error, 130 interrupted (nothing written).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  masksToJson, NetTrimError, pruneNetwork, writeLayersModel,
  type NetworkOptions, type NetworkProgress, type NetworkResult, type PruneMode,
} from "../bindings/index.ts";
import { parseCalibrationJson, readLayersModelDir, readNpy, writeLayersModelDir, type SampleMatrix } from "../bindings/node/files.ts";

const USAGE = `net-trim: prune the Dense layers of a TF.js LayersModel with Net-Trim (convex, layer-wise)

Usage:
  net-trim prune <model.json> --calibration <calib.npy|calib.json> -o <outDir> [options]
  net-trim --help | --version

Inputs:
  <model.json>               TF.js LayersModel (model.json + weight shards; or its directory):
                             a chain of Dense layers, ReLU between, linear last layer
  -c, --calibration <file>   calibration samples [samples, features]: a .npy file (float32,
                             float64 or uint8, C order) or a JSON array of arrays of numbers
  -o, --out <dir>            output directory (created if missing): model.json, weights.bin,
                             masks.json (which weights are zero), report.json

Options:
  --mode parallel|cascade    parallel: every layer on the original network's signals (default);
                             cascade: layers in order on the pruned network's output
  --epsilon-gain <g>[,...]   error budget per layer, eps = g * ||Y||_F (default 0.05); one value
                             or one per layer, e.g. 0.02,0.05,0.1
  --sparsity <d>[,...]       instead of a budget: the fraction of each layer's weights to KEEP,
                             e.g. 0.1 (or 10%); one value or one per layer
  --gamma <g>                cascade budget inflation, >= 1 (default 1.1)
  --kappa <k>                cascade last-layer factor, in (0, 1] (default 1)
  --max-iter <n>             iteration cap per layer solve (default 2000)
  --workers <n>              parallel mode: layers solved at once on worker threads
                             (0: in this thread; default: min(CPU threads, layers))
  --samples <n>              use only the first n calibration samples
  --force                    overwrite a model.json already in the output directory
  --json                     print report.json to stdout instead of the table
  -q, --quiet                no progress on stderr
  -h, --help                 this help
  -V, --version              the version

Exit codes: 0 done, 1 data or model error, 2 usage error, 130 interrupted (nothing written).
Set NET_TRIM_DEBUG=1 to get stack traces.

Example:
  net-trim prune model.json --mode cascade --epsilon-gain 0.03 --calibration calib.npy -o out/
`;

/** A command-line mistake: exit code 2. */
class UsageError extends Error {}

const OPTIONS = {
  calibration: { type: "string", short: "c" },
  out: { type: "string", short: "o" },
  mode: { type: "string" },
  "epsilon-gain": { type: "string" },
  sparsity: { type: "string" },
  gamma: { type: "string" },
  kappa: { type: "string" },
  "max-iter": { type: "string" },
  workers: { type: "string" },
  samples: { type: "string" },
  force: { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(err.message)?.[1];
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(`unknown option ${quoted ?? err.message}`);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
        // "Option '-o, --out <value>' argument missing" / "... argument is ambiguous" / "Option '--json' does not take an argument"
        let flag = quoted ? (/--[\w-]+/.exec(quoted)?.[0] ?? quoted) : "an option";
        const long = Object.entries(OPTIONS).find(([, o]) => "short" in o && `-${o.short}` === flag)?.[0];
        if (long) flag = `--${long}`;
        if (/does not take an argument/.test(err.message)) throw new UsageError(`${flag}: expected no value (it is a switch), received one`);
        if (/ambiguous/.test(err.message)) {
          // The value starts with '-': a forgotten value before the next option, or a negative number.
          const name = flag.replace(/^--/, "");
          const short = (OPTIONS as Record<string, { short?: string }>)[name]?.short;
          let at = -1;
          argv.forEach((a, i) => { if (a === flag || (short !== undefined && a === `-${short}`)) at = i; });
          const next = at >= 0 ? argv[at + 1] : undefined;
          throw new UsageError(next !== undefined
            ? `${flag}: expected a value, received ${JSON.stringify(next)}, which reads as an option (write ${flag}=${next} if it is the value)`
            : `${flag}: expected a value, received the next option instead`);
        }
        throw new UsageError(`${flag}: expected a value, received nothing`);
      }
      default:
        throw new UsageError(err.message.split("\n")[0]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers from flags

function parseNumber(flag: string, text: string, what: string, ok: (x: number) => boolean, percent = false): number {
  const t = text.trim();
  let x = percent && t.endsWith("%") ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (t === "" || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${flag}: expected ${what}, received ${JSON.stringify(text)}`);
  if (Object.is(x, -0)) x = 0;
  return x;
}

function parseList(flag: string, text: string, what: string, ok: (x: number) => boolean, percent = false): number | number[] {
  const parts = text.split(",");
  if (parts.length === 1) return parseNumber(flag, text, what, ok, percent);
  return parts.map((p, i) => {
    try {
      return parseNumber(flag, p, what, ok, percent);
    } catch {
      throw new UsageError(`--${flag}: expected ${what} (one value or a comma-separated list, one per layer), received ${JSON.stringify(p)} as item ${i + 1} of ${JSON.stringify(text)}`);
    }
  });
}

const integer = (min: number) => (x: number) => Number.isInteger(x) && x >= min;

// ---------------------------------------------------------------------------------------------
// Calibration samples

function readCalibration(file: string): SampleMatrix {
  if (!fs.existsSync(file)) throw new NetTrimError("invalid_option", `calibration file ${file}: no such file`);
  if (fs.statSync(file).isDirectory()) throw new NetTrimError("invalid_option", `calibration file ${file}: expected a .npy or .json file, received a directory`);
  const ext = path.extname(file).toLowerCase();
  if (ext === ".npy") return readNpy(file);
  if (ext === ".json") return parseCalibrationJson(fs.readFileSync(file, "utf8"), path.basename(file));
  // Unknown extension: .npy files start with the magic \x93NUMPY, anything else is read as JSON.
  const head = Buffer.alloc(6);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 6, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head[0] === 0x93 && head.subarray(1).toString("latin1") === "NUMPY") return readNpy(file);
  return parseCalibrationJson(fs.readFileSync(file, "utf8"), path.basename(file));
}

function checkFinite(m: SampleMatrix, name: string): void {
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new NetTrimError("non_finite", `${name}: sample ${Math.floor(k / m.cols)}, feature ${k % m.cols} is ${m.data[k]}: expected finite numbers only`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr

interface ProgressSink {
  update(p: NetworkProgress): void;
  clear(): void;
}

function progressSink(quiet: boolean, maxIter: number): ProgressSink {
  const err = process.stderr;
  if (quiet) return { update() {}, clear() {} };
  if (!err.isTTY) {
    return {
      update(p) {
        if (p.phase === "done") err.write(`net-trim: layer ${p.layer + 1}/${p.layers} ${p.name} done (${p.iteration ?? "?"} iterations)\n`);
      },
      clear() {},
    };
  }
  const done = new Set<number>();
  const running = new Map<number, NetworkProgress>();
  let last: NetworkProgress | undefined;
  let lastDraw = 0;
  let drawn = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    timer = undefined;
    lastDraw = performance.now();
    const L = last?.layers ?? 1;
    let fraction = done.size;
    for (const [i, p] of running) if (!done.has(i)) fraction += Math.min(0.9, (p.iteration ?? 0) / maxIter);
    fraction /= L;
    const width = 20;
    const fill = Math.round(fraction * width);
    let line = `[${"#".repeat(fill)}${"-".repeat(width - fill)}] ${done.size}/${L} layers done`;
    if (last && last.phase === "solving") {
      const r = (x?: number) => (x === undefined || !Number.isFinite(x) ? "-" : x.toExponential(1));
      line += ` | layer ${last.layer + 1}/${L} ${last.name}: iteration ${last.iteration ?? 0}, primal ${r(last.primalResidual)}/${r(last.primalTolerance)}, dual ${r(last.dualResidual)}/${r(last.dualTolerance)}`;
    }
    const cols = err.columns && err.columns > 10 ? err.columns - 1 : 120;
    if (line.length > cols) line = line.slice(0, cols);
    err.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  return {
    update(p) {
      if (p.phase === "done") {
        done.add(p.layer);
        running.delete(p.layer);
      } else running.set(p.layer, p);
      last = p;
      const wait = 100 - (performance.now() - lastDraw);
      if (wait <= 0) draw();
      else timer ??= setTimeout(draw, wait);
    },
    clear() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (drawn) err.write("\r\x1b[K");
      drawn = false;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The report

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 4; k++) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === "net-trim" && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}

function buildReport(result: NetworkResult, context: Record<string, unknown>) {
  const layers = result.layers.map((l) => {
    const { nnzPerNeuron: _n, ...info } = l.info;
    return {
      name: l.name, kind: l.kind, status: l.status, nnzBefore: l.nnzBefore, nnzAfter: l.nnzAfter, parameters: l.parameters,
      keptFraction: l.keptFraction, epsilon: l.epsilon, relativeError: l.relativeError, iterations: l.iterations, timeMs: l.timeMs, info,
    };
  });
  const sum = (f: (l: (typeof layers)[number]) => number) => layers.reduce((s, l) => s + f(l), 0);
  const parameters = sum((l) => l.parameters);
  return {
    tool: "net-trim",
    version: packageVersion(),
    ...context,
    status: result.status,
    layers,
    total: {
      nnzBefore: sum((l) => l.nnzBefore), nnzAfter: sum((l) => l.nnzAfter), parameters,
      keptFraction: parameters > 0 ? sum((l) => l.nnzAfter) / parameters : 0,
    },
    guarantee: result.guarantee,
    timeMs: result.timeMs,
  };
}

type Report = ReturnType<typeof buildReport>;

function formatTable(report: Report): string {
  const header = ["layer", "kind", "status", "nnz before → after", "kept %", "rel. error", "iterations", "time"];
  const rows = report.layers.map((l) => [
    l.name, l.kind, l.status, `${l.nnzBefore} → ${l.nnzAfter}`, (100 * l.keptFraction).toFixed(1),
    l.relativeError.toFixed(4), String(l.iterations), `${(l.timeMs / 1000).toFixed(2)} s`,
  ]);
  const right = [false, false, false, true, true, true, true, true];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (right[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd();
  const t = report.total;
  const g = report.guarantee;
  const out = [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ""];
  out.push(`total: ${t.nnzBefore} → ${t.nnzAfter} nonzeros of ${t.parameters} parameters, ${(100 * t.keptFraction).toFixed(2)}% kept`);
  out.push(
    `guarantee, ${g.theorem}: measured end-to-end error ${g.measuredError.toPrecision(4)} (relative ${g.relativeError.toFixed(4)}) ` +
    `${g.holds ? "≤" : ">"} bound ${g.bound.toPrecision(4)}: ${g.holds ? "holds" : "does NOT hold"}`,
  );
  return out.join("\n");
}

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
  if (values["epsilon-gain"] !== undefined && values.sparsity !== undefined) {
    throw new UsageError("--sparsity: expected either --epsilon-gain or --sparsity, received both");
  }
  const epsilonGain = values["epsilon-gain"] === undefined ? undefined
    : parseList("epsilon-gain", values["epsilon-gain"], "a number ≥ 0", (x) => x >= 0);
  const density = values.sparsity === undefined ? undefined
    : parseList("sparsity", values.sparsity, "a fraction of weights kept in (0, 1], e.g. 0.1 or 10%", (x) => x > 0 && x <= 1, true);
  const gamma = values.gamma === undefined ? undefined : parseNumber("gamma", values.gamma, "a number ≥ 1", (x) => x >= 1);
  const kappa = values.kappa === undefined ? undefined : parseNumber("kappa", values.kappa, "a number in (0, 1]", (x) => x > 0 && x <= 1);
  const maxIter = values["max-iter"] === undefined ? undefined : parseNumber("max-iter", values["max-iter"], "an integer ≥ 1", integer(1));
  const workersArg = values.workers === undefined ? undefined : parseNumber("workers", values.workers, "an integer ≥ 0", integer(0));
  const samples = values.samples === undefined ? undefined : parseNumber("samples", values.samples, "an integer ≥ 1", integer(1));
  if (mode !== "cascade" && (gamma !== undefined || kappa !== undefined)) {
    throw new UsageError(`--${gamma !== undefined ? "gamma" : "kappa"}: only used with --mode cascade, received --mode ${mode}`);
  }

  // The output directory: refuse early, before any work.
  const outDir = path.resolve(values.out);
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) {
    throw new NetTrimError("invalid_option", `output ${values.out}: expected a directory, received an existing file`);
  }
  if (fs.existsSync(path.join(outDir, "model.json")) && !values.force) {
    throw new NetTrimError("invalid_option", `output ${path.join(values.out, "model.json")} already exists: refusing to overwrite it (use --force, or another -o directory)`);
  }

  const quiet = values.quiet === true;
  const note = (s: string) => { if (!quiet) process.stderr.write(`net-trim: ${s}\n`); };

  const model = readLayersModelDir(modelArg);
  const network = model.network;
  const L = network.layers.length;
  const calibName = path.basename(values.calibration);
  let calib = readCalibration(values.calibration);
  if (samples !== undefined) {
    if (samples > calib.rows) throw new UsageError(`--samples: expected at most ${calib.rows} (the samples in ${calibName}), received ${samples}`);
    calib = { data: calib.data.subarray(0, samples * calib.cols), rows: samples, cols: calib.cols };
  }
  if (calib.cols !== network.inputSize) {
    throw new NetTrimError("shape_mismatch",
      `${calibName} has ${calib.cols} features per sample (shape [${calib.rows}, ${calib.cols}]) but the model's first layer "${network.layers[0].name}" takes ${network.inputSize} inputs`);
  }
  checkFinite(calib, calibName);
  const layerNames = network.layers.map((l) => l.name).join(", ");
  for (const [flag, v] of [["epsilon-gain", epsilonGain], ["sparsity", density]] as const) {
    if (Array.isArray(v) && v.length !== L) {
      throw new UsageError(`--${flag}: expected one value or one per layer (${L}: ${layerNames}), received ${v.length} values`);
    }
  }
  const workers = mode === "parallel" ? Math.min(workersArg ?? os.availableParallelism(), L) : undefined;

  const controller = new AbortController();
  let interrupted = false;
  const sink = progressSink(quiet, maxIter ?? 2000);
  let firstSigint = 0;
  const onSigint = () => {
    if (interrupted) {
      // Wrappers (npx, tsx) relay the terminal's SIGINT that this process also got: one press, not two.
      if (performance.now() - firstSigint < 300) return;
      process.stderr.write("net-trim: interrupted: nothing was written\n");
      process.exit(130); // a second Ctrl-C: stop now
    }
    interrupted = true;
    firstSigint = performance.now();
    controller.abort();
    sink.clear();
    process.stderr.write("net-trim: interrupted, stopping the solves (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);

  const options: NetworkOptions = {
    mode,
    ...(epsilonGain !== undefined ? { epsilonGain } : {}),
    ...(density !== undefined ? { density } : {}),
    ...(gamma !== undefined ? { gamma } : {}),
    ...(kappa !== undefined ? { kappa } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(maxIter !== undefined ? { layerOptions: { maxIter } } : {}),
    onProgress: (p) => { if (!interrupted) sink.update(p); },
    signal: controller.signal,
  };
  const shape = [network.inputSize, ...network.layers.map((l) => l.units)].join("-");
  const budget = density !== undefined
    ? `keeping ${[density].flat().map((d) => `${+(100 * d).toPrecision(4)}%`).join(",")} of ${Array.isArray(density) ? "the layers'" : "each layer's"} weights`
    : `epsilon gain ${[epsilonGain ?? 0.05].flat().join(",")}`;
  // The pool runs budget solves only (the density search stays in this thread).
  const pooled = workers !== undefined && workers > 1 && density === undefined;
  note(`pruning ${modelArg} (${shape}, ${L} Dense layers) on ${calib.rows} samples, ${mode}${pooled ? ` on ${workers} workers` : ""}, ${budget}`);

  let result: NetworkResult;
  try {
    result = await pruneNetwork(network, calib, options);
  } catch (e) {
    sink.clear();
    if (interrupted || (e as Error)?.name === "AbortError") {
      process.stderr.write("net-trim: interrupted: nothing was written\n");
      return 130;
    }
    process.off("SIGINT", onSigint);
    throw e;
  }
  sink.clear();
  if (interrupted || result.status === "aborted") {
    process.stderr.write("net-trim: interrupted: nothing was written\n");
    return 130;
  }
  // From here on no await: the files below are written before a SIGINT can be handled.

  const report = buildReport(result, {
    model: path.resolve(model.modelPath),
    calibration: { file: path.resolve(values.calibration), samples: calib.rows, features: calib.cols },
    options: {
      mode,
      ...(density !== undefined ? { density } : { epsilonGain: epsilonGain ?? 0.05 }),
      ...(mode === "cascade" ? { gamma: gamma ?? 1.1, kappa: kappa ?? 1 } : {}),
      maxIter: maxIter ?? 2000,
      ...(mode === "parallel" ? { workers: pooled ? workers : 0 } : {}),
    },
    output: { dir: outDir, files: ["model.json", "weights.bin", "masks.json", "report.json"] },
  });
  const written = writeLayersModel(model.modelJson, result.network, {
    mode, status: result.status, guarantee: { theorem: result.guarantee.theorem, relativeError: result.guarantee.relativeError, bound: result.guarantee.bound, holds: result.guarantee.holds },
  });
  writeLayersModelDir(outDir, written);
  fs.writeFileSync(path.join(outDir, "masks.json"), JSON.stringify(masksToJson(result.network)));
  fs.writeFileSync(path.join(outDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  process.off("SIGINT", onSigint);

  if (values.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    process.stdout.write(formatTable(report) + "\n");
    process.stdout.write(`wrote ${["model.json", "weights.bin", "masks.json", "report.json"].map((f) => path.join(values.out!, f)).join(", ")}\n`);
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
  if (command !== "prune") throw new UsageError(`unknown command ${JSON.stringify(command)}: expected prune`);
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
