// Theorem 3 (SPEC §5) as a figure: the probability that the ReLU program with ε = 0 recovers an
// s-sparse neuron exactly from P Gaussian samples, over a grid of (s, P), N = 100, 20 seeds.
// Run: npm run bench:theorem3 [-- --quick] [-- --workers 2]
// Each instance: X [P, N] i.i.d. N(0, 1), w s-sparse (uniform support, N(0, 1) values), no bias
// (pruneLayer's fitBias: false, so the program has no ones row: the theorem's setting),
// Y = relu(X·w); pruneLayer with epsilon 0 and tight tolerances (RECOVERY_OPTIONS). Recovered when
// ‖ŵ − w‖/‖w‖ ≤ 1e-3; the shares at 1e-2 and 1e-4 are recorded too, to show the threshold does not
// matter. The 50% crossing per s is fitted by P = C·s·ln(N/s) (least squares in C).
// Writes bench/results/theorem3-<date>.json and .svg.
import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { matrix, pruneLayer } from "../bindings/index.ts";
import { RECOVERY_OPTIONS, recoveryProblem, relativeRecoveryError } from "../examples/sparse-recovery.ts";
import { theorem3Svg } from "./theorem3-figure.ts";

const N = 100;
const quick = process.argv.includes("--quick");
const SPARSITIES = quick ? [5, 10, 15, 20] : Array.from({ length: 16 }, (_, i) => 5 + i);
const SAMPLES = quick ? [40, 80, 120, 160] : Array.from({ length: 20 }, (_, i) => 10 + 10 * i);
const SEEDS = quick ? 4 : 20;
const THRESHOLDS = [1e-2, 1e-3, 1e-4];
const THRESHOLD = 1e-3;

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Run { s: number; P: number; seed: number; error: number; status: string; iterations: number; nnz: number; ms: number }

/** Every (s, P, seed) of the grid, in a fixed order; shard k of n takes every n-th. */
function tasks(): { s: number; P: number; seed: number }[] {
  const out: { s: number; P: number; seed: number }[] = [];
  for (const s of SPARSITIES) for (const P of SAMPLES) for (let seed = 1; seed <= SEEDS; seed++) out.push({ s, P, seed });
  return out;
}

async function solveShard(k: number, n: number): Promise<Run[]> {
  const runs: Run[] = [];
  const all = tasks();
  for (let t = k; t < all.length; t += n) {
    const { s, P, seed } = all[t];
    const problem = recoveryProblem(seed, N, s, P);
    const t0 = performance.now();
    const r = await pruneLayer(matrix(problem.input, P, N), matrix(problem.output, P, 1), RECOVERY_OPTIONS);
    runs.push({
      s, P, seed, error: relativeRecoveryError(r.weights, problem.truth), status: r.status,
      iterations: r.info.iterations, nnz: r.info.nnz, ms: performance.now() - t0,
    });
    if (runs.length % 200 === 0) console.error(`shard ${k}: ${runs.length} of ${Math.ceil(all.length / n)} solved`);
  }
  return runs;
}

const shard = argument("shard");
if (shard !== undefined) {
  // A child: solve its share, send it back, and exit once the message is flushed (a large
  // message is still in transit when send() returns). A child never runs the parent's part.
  const [k, n] = shard.split("/").map(Number);
  process.on("disconnect", () => process.exit(1));
  process.send!(await solveShard(k, n), () => process.exit(0));
} else {
  await parent();
}

async function parent(): Promise<void> {
  const workers = Number(argument("workers") ?? 2);
  const t0 = performance.now();
  const shards = await Promise.all(Array.from({ length: workers }, (_, k) => new Promise<Run[]>((resolve, reject) => {
    const child = fork(process.argv[1], ["--shard", `${k}/${workers}`, ...(quick ? ["--quick"] : [])], { execArgv: process.execArgv });
    child.once("message", (m) => resolve(m as Run[]));
    child.once("exit", (code) => reject(new Error(`shard ${k} exited with ${code} before sending its runs`)));
  })));
  const runs = shards.flat();
  const wallSeconds = (performance.now() - t0) / 1000;

  function shareRecovered(s: number, P: number, threshold: number): number {
    const cell = runs.filter((r) => r.s === s && r.P === P);
    return cell.filter((r) => r.error <= threshold).length / cell.length;
  }
  const probability = SPARSITIES.map((s) => SAMPLES.map((P) => shareRecovered(s, P, THRESHOLD)));
  const byThreshold = Object.fromEntries(THRESHOLDS.map((t) => [String(t), SPARSITIES.map((s) => SAMPLES.map((P) => shareRecovered(s, P, t)))]));

  /** First P where the recovery share reaches 50%, linearly interpolated between grid points. */
  function halfway(row: number[]): number {
    for (let j = 0; j < row.length; j++) {
      if (row[j] < 0.5) continue;
      if (j === 0) return SAMPLES[0];
      return SAMPLES[j - 1] + ((0.5 - row[j - 1]) / (row[j] - row[j - 1])) * (SAMPLES[j] - SAMPLES[j - 1]);
    }
    return NaN;
  }
  const crossing = probability.map(halfway);
  /** Least-squares C for P50 = C·f(s). */
  function fitC(f: (s: number) => number): { C: number; rmsResidual: number } {
    let num = 0, den = 0;
    const pts = SPARSITIES.map((s, i) => ({ f: f(s), p: crossing[i] })).filter((q) => Number.isFinite(q.p));
    for (const q of pts) { num += q.f * q.p; den += q.f * q.f; }
    const C = num / den;
    const rms = Math.sqrt(pts.reduce((a, q) => a + (q.p - C * q.f) ** 2, 0) / pts.length);
    return { C, rmsResidual: rms };
  }
  const fitLogNOverS = fitC((s) => s * Math.log(N / s));
  const fitLogN = fitC((s) => s * Math.log(N));
  const fitLinear = fitC((s) => s);

  // Bimodality: the errors of the runs, binned by decade.
  const decades: Record<string, number> = {};
  for (const r of runs) {
    const d = r.error <= 0 ? "-inf" : String(Math.floor(Math.log10(r.error)));
    decades[d] = (decades[d] ?? 0) + 1;
  }

  console.log(`Theorem 3: N = ${N}, ${runs.length} solves in ${wallSeconds.toFixed(0)} s on ${workers} processes`);
  console.table(SPARSITIES.map((s, i) => ({ s: String(s), ...Object.fromEntries(SAMPLES.map((P, j) => [P, probability[i][j]])), P50: crossing[i].toFixed(1) })));
  console.log("errors by decade (log10):", decades);
  console.log(`fit P50 = C·s·ln(N/s): C = ${fitLogNOverS.C.toFixed(3)} (rms ${fitLogNOverS.rmsResidual.toFixed(1)}); C·s·ln N: C = ${fitLogN.C.toFixed(3)} (rms ${fitLogN.rmsResidual.toFixed(1)}); C·s: C = ${fitLinear.C.toFixed(2)} (rms ${fitLinear.rmsResidual.toFixed(1)})`);
  const changed = THRESHOLDS.map((t) => {
    const diff = byThreshold[String(t)].flat().map((v, i) => Math.abs(v - probability.flat()[i]));
    return { threshold: t, cellsDifferentFrom1e3: diff.filter((d) => d > 0).length, largestChange: Math.max(...diff) };
  });
  console.table(changed);

  const date = new Date().toISOString().slice(0, 10);
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const name = `theorem3${quick ? "-quick" : ""}-${date}`;
  writeFileSync(new URL(`${name}.svg`, dir), theorem3Svg({
    N, sparsities: SPARSITIES, samples: SAMPLES, probability, C: fitLogNOverS.C, halfway: crossing, seeds: SEEDS, threshold: THRESHOLD,
  }));
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify({
    date: new Date().toISOString(), node: process.version, N, sparsities: SPARSITIES, samples: SAMPLES, seeds: SEEDS,
    options: RECOVERY_OPTIONS, threshold: THRESHOLD, probability, byThreshold, thresholdSensitivity: changed,
    halfway: crossing, fit: { sLogNOverS: fitLogNOverS, sLogN: fitLogN, linear: fitLinear }, errorDecades: decades,
    wallSeconds, workers, maxIterReached: runs.filter((r) => r.iterations >= RECOVERY_OPTIONS.maxIter).length,
    runColumns: ["s", "P", "seed", "error", "iterations", "nnz", "status"],
    runs: runs.map((r) => [r.s, r.P, r.seed, +r.error.toPrecision(3), r.iterations, r.nnz, r.status]),
  }, null, 1));
  console.log(`wrote bench/results/${name}.svg and .json`);
}
