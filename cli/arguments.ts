// The command line of `net-trim`: usage text, flags, and numbers read from flags with errors that
// name the flag (exit code 2).
import { parseArgs } from "node:util";
import { NETWORK_REWEIGHT, REWEIGHT_MAX_ROUNDS } from "../bindings/index.ts";

export const USAGE = `net-trim: prune a TF.js LayersModel with Net-Trim (convex, layer-wise)

Usage:
  net-trim prune <model.json> --calibration <calib.npy|calib.json> -o <outDir> [options]
  net-trim plan <model.json|model.onnx> -c <calib.npy> --work <dir> [--epsilon-gain g] [--max-iter n] [--reweight r]
  net-trim solve --work <dir> --layer <i> | --next [--until-done]
  net-trim merge --work <dir> -o <outDir>
  net-trim queue submit --work <dir> --redis <url> [--wait] | queue work|status --redis <url>
  net-trim --help | --version

Inputs:
  <model.json|model.onnx>    TF.js LayersModel (model.json + weight shards; or its directory),
                             ONNX model or compact model.ntz (chosen by the file's content): a chain of Dense
                             layers, or any graph of the supported layers (Conv2D,
                             DepthwiseConv2D, pooling, BatchNorm, Add, Concatenate...)
  -c, --calibration <file>   calibration samples: a .npy file (float32, float64 or uint8, C
                             order) of [samples, features] or [samples, H, W, C] (ONNX models:
                             the model's own input layout, e.g. [samples, C, H, W]), or a JSON
                             array of arrays of numbers
  -o, --out <dir>            output directory (created if missing): model.json + weights.bin
                             (or model.onnx), masks.json (which weights are zero), report.json

Options:
  --mode parallel|cascade    parallel: every layer on the original network's signals (default);
                             cascade: layers in order on the pruned network's output
  --epsilon-gain <g>[,...]   error budget per layer, eps = g * ||Y||_F (default 0.05); one value
                             or one per (prunable) layer, e.g. 0.02,0.05,0.1
  --keep <f>                 instead of a budget: the fraction of ALL the network's weights to
                             keep, e.g. 0.1 (or 10%; conv layers counted on model graphs);
                             parallel mode allocates it across layers (each layer solved at a
                             ladder of gains, weights removed where they cost the least logit
                             error), cascade mode searches one gain for every layer
  --keep-allocation <a>      how --keep is split: per-layer (parallel mode's default: the ladder
                             search above) or common-gain (one gain for every layer, searched;
                             cascade mode's only choice)
  --keep-per-layer <d>[,...] instead of a budget: the fraction of each layer's weights to keep,
                             e.g. 0.1 (or 10%); one value or one per (prunable) layer
  --sparsity                 refused: ambiguous (it meant the fraction kept here; other pruners
                             read sparsity 0.9 as 90% zeros): use --keep or --keep-per-layer
  --refit                    after pruning, refit each layer's kept weights by least squares
                             toward the original network's signals (zeros stay zeros; the
                             Theorem 1/2 bound is then that of the weights before the refit;
                             model graphs: Dense, Conv2D and DepthwiseConv2D layers)
  --reweight <rounds>        iteratively reweighted l1: after each layer's solve, <rounds> more
                             solves (0-20) weighting each weight by 1/(|w| + delta), warm-started:
                             fewer weights at the same budget (default 3; 0: plain l1, at a
                             third to a quarter of the time; chains and model graphs)
  --reweight-delta <d>       delta of --reweight relative to the mean |w| of the kept weights
                             (default 0.1)
  --gamma <g>                cascade budget inflation, >= 1 (default 1.1)
  --kappa <k>                cascade last-layer factor, in (0, 1] (default 1)
  --max-iter <n>             iteration cap per layer solve (default 2000)
  --workers <n>              parallel mode: layers solved at once on worker threads
                             (0: in this thread; default: min(CPU threads, layers); chains
                             and model graphs alike)
  --threads <n>              threads for each layer solved in this thread (cascade, or
                             --workers 0/1): its iterations split over them, the same results
                             (default: the CPU threads there; pool workers run one)
  --samples <n>              use only the first n calibration samples
  --force                    overwrite a model.json (model.onnx) already in the output directory
  --sparse-initializers      ONNX: store pruned kernels as sparse_initializer (smaller file)
  --compact                  also write model.ntz: the pruned model in net-trim's compact
                             lossless encoding (about 4 bytes per kept weight; a .ntz model is
                             read back like the others, as a model graph)
  --compact-float16          the same with values rounded to float16 (about 2 bytes per weight)
  --json                     print report.json to stdout instead of the table
  -q, --quiet                no progress on stderr
  -h, --help                 this help
  -V, --version              the version

Across machines (parallel mode as one job per layer; README "Across machines"):
  plan                       computes the original signals once and writes one problem per
                             layer (a graph: per Dense/Conv2D/DepthwiseConv2D node)
                             (.npy + manifest.json with SHA-256 hashes) into --work;
                             prints the number of jobs on stdout
  solve                      solves one layer of the plan: --layer <i> (e.g.
                             $JOB_COMPLETION_INDEX, $SLURM_ARRAY_TASK_ID) or --next (the first
                             layer without a result that nobody holds; --until-done: then the
                             next, until none is left); the result is written atomically
  merge                      checks every result against its problem's hash and writes what
                             prune writes (model.json, weights.bin, masks.json, report.json)
  queue submit               one BullMQ job per layer without a result (references, not
                             matrices); --wait: until every layer has a result, re-submitting
                             jobs the queue lost (a Redis restarted without persistence)
  queue work                 processes the jobs (--concurrency n, default 1); a worker killed
                             mid-job is retried by BullMQ's stalled-job check
  queue status               each job's state, progress and failure
  --work <dir>               the work folder (a path, or a file:// URL) every machine can reach
  --layer <i>                solve: the layer index, from 0
  --next, --until-done       solve: claim the next layer (and go on until none is left)
  --stale-after <s>          solve --next: take over a claim not refreshed for s seconds (60)
  --model <model.json>       merge: the model to write (default: the copy plan kept in --work)
  --redis <url>              queue: redis://[user:password@]host:port[/db]
  --queue <name>             queue: the BullMQ queue name (default net-trim)
  --concurrency <n>          queue work: jobs at once in this process (default 1)
  --lock-duration <ms>       queue work: BullMQ lockDuration (default 30000)
  --stalled-interval <ms>    queue work: BullMQ stalledInterval (default 30000)
  --wait                     queue submit: wait until every layer has a result

Exit codes: 0 done, 1 data, model or output error, 2 usage error, 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM); when interrupted or failing, nothing is written.
Set NET_TRIM_DEBUG=1 to get stack traces.

Example:
  net-trim prune model.json --mode cascade --epsilon-gain 0.03 --calibration calib.npy -o out/
`;

/** A command-line mistake: exit code 2. */
export class UsageError extends Error {}

const OPTIONS = {
  calibration: { type: "string", short: "c" },
  out: { type: "string", short: "o" },
  mode: { type: "string" },
  "epsilon-gain": { type: "string" },
  sparsity: { type: "string" },
  keep: { type: "string" },
  "keep-per-layer": { type: "string" },
  "keep-allocation": { type: "string" },
  gamma: { type: "string" },
  kappa: { type: "string" },
  "max-iter": { type: "string" },
  workers: { type: "string" },
  threads: { type: "string" },
  samples: { type: "string" },
  refit: { type: "boolean" },
  reweight: { type: "string" },
  "reweight-delta": { type: "string" },
  force: { type: "boolean" },
  "sparse-initializers": { type: "boolean" },
  compact: { type: "boolean" },
  "compact-float16": { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  work: { type: "string" },
  layer: { type: "string" },
  next: { type: "boolean" },
  "until-done": { type: "boolean" },
  "stale-after": { type: "string" },
  model: { type: "string" },
  redis: { type: "string" },
  queue: { type: "string" },
  concurrency: { type: "string" },
  "lock-duration": { type: "string" },
  "stalled-interval": { type: "string" },
  wait: { type: "boolean" },
} as const;

export function parseCommandLine(argv: string[]) {
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

export function parseNumber(flag: string, text: string, what: string, ok: (x: number) => boolean, percent = false): number {
  const t = text.trim();
  let x = percent && t.endsWith("%") ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (t === "" || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${flag}: expected ${what}, received ${JSON.stringify(text)}`);
  if (Object.is(x, -0)) x = 0;
  return x;
}

export function parseList(flag: string, text: string, what: string, ok: (x: number) => boolean, percent = false): number | number[] {
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

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (x: number) => Number.isInteger(x) && x >= min && x <= max;

/** --keep-allocation: per-layer or common-gain, only with --keep; cascade mode refuses per-layer. */
export function parseKeepAllocation(text: string | undefined, keep: number | undefined, mode: "parallel" | "cascade"): "per-layer" | "common-gain" | undefined {
  if (text === undefined) return undefined;
  if (text !== "per-layer" && text !== "common-gain") throw new UsageError(`--keep-allocation: expected per-layer or common-gain, received ${JSON.stringify(text)}`);
  if (keep === undefined) throw new UsageError(`--keep-allocation: only with --keep (how the whole network's share is split), received --keep-allocation ${text} without --keep`);
  if (mode === "cascade" && text === "per-layer") {
    throw new UsageError("--keep-allocation: expected common-gain in cascade mode (its layers are solved on the pruned layers' output, so they cannot be laddered apart), received per-layer");
  }
  return text;
}

/**
 * --reweight <rounds> and --reweight-delta <d> as layerOptions.reweight. Left out: NETWORK_REWEIGHT
 * (3 rounds, δ 0.1), as pruneNetwork; --reweight 0 is plain l1.
 */
export function reweightOf(rounds: string | undefined, delta: string | undefined): { rounds: number; delta: number } {
  const r = rounds === undefined ? NETWORK_REWEIGHT.rounds
    : parseNumber("reweight", rounds, `an integer from 0 to ${REWEIGHT_MAX_ROUNDS} (reweighting rounds)`, (x) => integer(0)(x) && x <= REWEIGHT_MAX_ROUNDS);
  if (r === 0 && delta !== undefined) throw new UsageError(`--reweight-delta: only used with reweighting rounds (--reweight <rounds>), received --reweight 0`);
  const d = delta === undefined ? NETWORK_REWEIGHT.delta : parseNumber("reweight-delta", delta, "a number > 0", (x) => x > 0);
  return { rounds: r, delta: d };
}
