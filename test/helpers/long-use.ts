// Long use (issue 12): a seeded sequence of pruneLayer calls of varied shapes and options, with
// the three incidents a long-lived process meets in between (a refused bad input, an abort
// mid-solve, an out-of-memory refusal), and a digest of each outcome to compare runs bit for bit.
// Used by test/long-use.test.ts (short) and bench/soak.bench.ts (1,000 calls, 200 on a pool).
import { createHash } from "node:crypto";
import { matrix, NetTrimError, type LayerOptions, type LayerResult, type MatrixInput } from "../../bindings/index.ts";
import { randomLayer, rng } from "./problems.ts";

type CallKind = "solve" | "bad-input" | "abort" | "out-of-memory";

export interface SoakCall {
  index: number;
  kind: CallKind;
  /** Which incident of its kind this is (0, 1, 2, …): bad inputs cycle through NaN, 1e39 and a bad option. */
  variant: number;
  P: number;
  N: number;
  M: number;
  seed: number;
  linear: boolean;
  zeroInputs: number;
  epsilonGain: number;
  threads: number;
}

/** One outcome: a status and the bits of what was returned, or the refusal (class, code and message). */
export interface Outcome {
  index: number;
  kind: CallKind;
  /** status, or the error's class name */
  result: string;
  iterations?: number;
  digest: string;
}

export type Solve = (input: MatrixInput, output: MatrixInput, options: LayerOptions) => Promise<LayerResult>;

interface SoakShapes {
  /** Samples, inputs and outputs drawn uniformly from these ranges. */
  P: [number, number];
  N: [number, number];
  M: [number, number];
}

const SOAK_SHAPES: SoakShapes = { P: [16, 300], N: [4, 100], M: [1, 32] };

/**
 * `count` calls: every `incidentEvery` calls one of each incident (bad input, abort, out of memory)
 * at fixed offsets, and every `threadsEvery`-th solve on 2 threads; the rest are seeded shapes
 * from `shapes`, relu or linear, some with mostly-zero inputs.
 */
export function soakCalls(
  count: number, seed: number, opts: { incidentEvery?: number; threadsEvery?: number; shapes?: SoakShapes } = {},
): SoakCall[] {
  const every = opts.incidentEvery ?? 20;
  const threadsEvery = opts.threadsEvery ?? 0;
  const { P, N, M } = opts.shapes ?? SOAK_SHAPES;
  const u = rng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
  return Array.from({ length: count }, (_, index) => {
    const at = index % every;
    const kind: CallKind = at === 5 ? "bad-input" : at === 11 ? "abort" : at === 17 ? "out-of-memory" : "solve";
    const call: SoakCall = {
      index, kind, variant: Math.floor(index / every), P: between(...P), N: between(...N), M: between(...M), seed: between(1, 1e6),
      linear: u() < 0.3, zeroInputs: u() < 0.3 ? 0.7 : 0, epsilonGain: [0.02, 0.05, 0.1, 0.3][between(0, 3)],
      threads: threadsEvery > 0 && index % threadsEvery === threadsEvery - 1 && kind === "solve" ? 2 : 1,
    };
    // Aborts need a solve that would not end by itself before the abort.
    if (kind === "abort") Object.assign(call, { P: P[1], N: N[1], linear: false, zeroInputs: 0 });
    return call;
  });
}

/** The bits of a result (status, iterations, weights, bias, dual) as a hex digest. */
function digestOf(r: LayerResult): string {
  const h = createHash("sha256");
  h.update(`${r.status}|${r.info.iterations}|${r.info.nnz}|`);
  for (const a of [r.weights, r.bias, r.dual.u1, r.dual.u2]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest("hex").slice(0, 24);
}

/** Abort once the solve has run this many iterations (the progress call at that iteration). */
const ABORT_AT_ITERATION = 30;

/**
 * Runs one call with `solve`. Incidents are expected to fail the way they should: bad input a
 * NonFiniteError or ValidationError, out of memory an OutOfMemoryError, an abort the status
 * "aborted" (the signal is aborted from the progress callback, so the iteration it stops at is
 * the same on every run). Anything else throws.
 */
export async function runCall(call: SoakCall, solve: Solve): Promise<Outcome> {
  const base = { index: call.index, kind: call.kind };
  if (call.kind === "out-of-memory") {
    // 14,000 inputs: the Gram matrix and its factors need 4.7 GB of wasm memory; the factored
    // update asked for (auto would take CG), refused before growing it.
    const x = new Float32Array(14_000).fill(0.5);
    return refusal(base, () => solve(matrix(x, 1, 14_000), matrix(Float32Array.of(1), 1, 1), { wUpdate: "factored" }), "OutOfMemoryError");
  }
  const pr = randomLayer(call.seed, call.P, call.N, call.M, { linear: call.linear, zeroInputs: call.zeroInputs });
  const input = matrix(pr.input, call.P, call.N);
  const output = matrix(pr.output, call.P, call.M);
  const options: LayerOptions = { kind: call.linear ? "linear" : "relu", epsilonGain: call.epsilonGain, maxIter: 200 };
  if (call.kind === "bad-input") {
    if (call.variant % 3 !== 2) {
      const bad = Float64Array.from(pr.input);
      bad[call.seed % bad.length] = call.variant % 3 === 0 ? NaN : 1e39;
      return refusal(base, () => solve(matrix(bad, call.P, call.N), output, options), "NonFiniteError");
    }
    return refusal(base, () => solve(input, output, { ...options, maxIter: 2 ** 31 }), "ValidationError");
  }
  if (call.kind === "abort") {
    const controller = new AbortController();
    const r = await solve(input, output, {
      ...options, epsilonGain: 0.01, relTol: 1e-9, dualRelTol: 1e-9, absTol: 1e-12, maxIter: 100_000, signal: controller.signal,
      onProgress: (p) => { if (p.iteration >= ABORT_AT_ITERATION) controller.abort(); },
    });
    if (r.status !== "aborted") throw new Error(`call ${call.index}: expected an aborted solve, got ${r.status}`);
    return { ...base, result: r.status, iterations: r.info.iterations, digest: digestOf(r) };
  }
  const r = await solve(input, output, { ...options, ...(call.threads > 1 ? { threads: call.threads } : {}) });
  return { ...base, result: r.status, iterations: r.info.iterations, digest: digestOf(r) };
}

async function refusal(base: Pick<Outcome, "index" | "kind">, run: () => Promise<unknown>, expected: string): Promise<Outcome> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof NetTrimError) || e.name !== expected) throw e;
    return { ...base, result: e.name, digest: createHash("sha256").update(`${e.code}|${e.message}`).digest("hex").slice(0, 24) };
  }
  throw new Error(`call ${base.index} (${base.kind}): expected a ${expected}, but it was accepted`);
}
