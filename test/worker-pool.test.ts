// The worker pool: layers solved at the same time on Node worker_threads, each worker with its
// own instance of one compiled module, give exactly what pruneLayer gives in the main thread.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compileModule, matrix, NonFiniteError, pruneLayer, ValidationError,
  type LayerOptions, type LayerResult, type ProgressInfo,
} from "../bindings/index.ts";
import { createLayerPool, type LayerPool } from "../bindings/workers/pool.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "../bindings/workers/protocol.ts";
import { spawnLayerWorker } from "../bindings/workers/spawn.ts";
import { randomLayer, type Problem } from "./helpers/problems.ts";

const TIMING = new Set(["setupMs", "solveMs", "totalMs"]);

function expectIdentical(a: LayerResult, b: LayerResult) {
  expect(a.status).toBe(b.status);
  expect(a.info.iterations).toBe(b.info.iterations);
  expect(Buffer.from(a.weights.buffer, a.weights.byteOffset, a.weights.byteLength).equals(
    Buffer.from(b.weights.buffer, b.weights.byteOffset, b.weights.byteLength))).toBe(true);
  expect(Buffer.from(a.bias.buffer, a.bias.byteOffset, a.bias.byteLength).equals(
    Buffer.from(b.bias.buffer, b.bias.byteOffset, b.bias.byteLength))).toBe(true);
  for (const [k, v] of Object.entries(b.info)) {
    if (TIMING.has(k)) continue;
    expect((a.info as unknown as Record<string, unknown>)[k], `info.${k}`).toEqual(v);
  }
  expect(a.dual.rho).toBe(b.dual.rho);
  expect(a.dual.u1).toEqual(b.dual.u1);
  expect(a.dual.u2).toEqual(b.dual.u2);
}

const job = (pr: Problem, options?: Omit<LayerOptions, "signal" | "onProgress">) => ({
  input: matrix(pr.input, pr.P, pr.N),
  output: matrix(pr.output, pr.P, pr.M),
  options,
});

/** A problem that does not converge soon: tolerances no solve meets. */
const LONG: Omit<LayerOptions, "signal" | "onProgress"> = { absTol: 1e-14, relTol: 1e-14, dualRelTol: 1e-14 };

describe("layer pool (Node worker_threads)", () => {
  let module: WebAssembly.Module;
  let pool: LayerPool;
  const inits: WebAssembly.Module[] = [];
  let spawned = 0;

  beforeAll(async () => {
    module = await compileModule();
    // Wrap the real spawner to see what the pool posts at start-up.
    pool = await createLayerPool({
      size: 2,
      module,
      spawn: async () => {
        spawned++;
        const h = await spawnLayerWorker();
        return {
          ...h,
          postMessage: (m: ToWorker, t?: Transferable[]) => {
            if (m.type === "init") inits.push(m.module);
            h.postMessage(m, t);
          },
        };
      },
    });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("solves 3 layers concurrently on 2 workers, bit-identical to pruneLayer run one after another", async () => {
    const layers = [
      { pr: randomLayer(11, 600, 80, 30), options: { epsilonGain: 0.05 } },
      { pr: randomLayer(12, 500, 60, 25), options: { ...LONG, maxIter: 1500 } },
      { pr: randomLayer(13, 500, 70, 20), options: { ...LONG, maxIter: 1500, epsilonGain: 0.1 } },
    ];
    // Sequential, main thread.
    const sequential: LayerResult[] = [];
    for (const { pr, options } of layers) sequential.push(await pruneLayer(job(pr).input, job(pr).output, options));

    const windows = layers.map(() => ({ first: Infinity, last: -Infinity, calls: [] as ProgressInfo[] }));
    const parallel = await Promise.all(
      layers.map(({ pr, options }, i) =>
        pool.solve(job(pr, options), {
          onProgress: (p) => {
            const t = performance.now();
            windows[i].first = Math.min(windows[i].first, t);
            windows[i].last = Math.max(windows[i].last, t);
            windows[i].calls.push(p);
          },
        }),
      ),
    );
    for (let i = 0; i < layers.length; i++) expectIdentical(parallel[i], sequential[i]);
    expect(sequential[0].status).toBe("solved");
    expect(sequential[1].status).toBe("max_iter_reached");

    // Two workers, one module: compiled once here and posted as is to each.
    expect(spawned).toBe(2);
    expect(inits.length).toBe(2);
    for (const m of inits) expect(m).toBe(module);

    // Progress arrived for each job, in order, every checkInterval (10) iterations.
    for (let i = 0; i < layers.length; i++) {
      const its = windows[i].calls.map((p) => p.iteration);
      expect(its.length).toBeGreaterThan(0);
      expect(its.every((it, k) => it === 10 * (k + 1))).toBe(true);
      expect(windows[i].calls.every((p) => Number.isFinite(p.primalResidual) && p.rho > 0)).toBe(true);
    }
    // The two long jobs went to different workers at the same time: their progress windows overlap.
    expect(Math.max(windows[1].first, windows[2].first)).toBeLessThan(Math.min(windows[1].last, windows[2].last));
  });

  it("leaves the caller's arrays unchanged and not detached", async () => {
    const pr = randomLayer(21, 300, 40, 12);
    const input = matrix(pr.input, pr.P, pr.N);
    const output = { data: Float64Array.from(pr.output), rows: pr.P, cols: pr.M };
    const upper = matrix(new Float32Array(pr.P * pr.M).fill(0.01), pr.P, pr.M);
    const warm = randomLayer(22, 1, 40, 12);
    const before = [input.data.slice(), output.data.slice(), upper.data.slice(), warm.weights.slice(), warm.bias.slice()];
    const r = await pool.solve({
      input, output,
      options: { upperBound: upper, warmStart: { weights: warm.weights, bias: warm.bias }, maxIter: 50 },
    });
    expect(r.weights.length).toBe(40 * 12);
    const after = [input.data, output.data, upper.data, warm.weights, warm.bias];
    for (let i = 0; i < after.length; i++) {
      expect(after[i].buffer.byteLength).toBeGreaterThan(0); // not detached
      expect(after[i]).toEqual(before[i]);
    }
  });

  it("aborting mid-solve gives status 'aborted' with honest info", async () => {
    const pr = randomLayer(31, 600, 80, 30);
    const ac = new AbortController();
    let lastProgress = 0;
    const r = await pool.solve(job(pr, { ...LONG, maxIter: 1_000_000 }), {
      signal: ac.signal,
      onProgress: (p) => {
        lastProgress = p.iteration;
        if (p.iteration >= 50) ac.abort();
      },
    });
    expect(r.status).toBe("aborted");
    expect(r.info.iterations).toBeGreaterThanOrEqual(50);
    // Not run to its end (1e6 iterations at tolerances it cannot meet): stopped soon after the abort.
    expect(r.info.iterations).toBeLessThan(2000);
    expect(r.info.iterations).toBeGreaterThanOrEqual(lastProgress);
    // The info describes the returned weights.
    let nnz = 0;
    for (const w of r.weights) if (w !== 0) nnz++;
    expect(r.info.nnzWeights).toBe(nnz);
    expect(Number.isFinite(r.info.outputError)).toBe(true);
  });

  it("a job whose signal is already aborted returns what pruneLayer returns for it", async () => {
    const pr = randomLayer(32, 200, 30, 10);
    const ac = new AbortController();
    ac.abort();
    const [a, b] = await Promise.all([
      pool.solve(job(pr), { signal: ac.signal }),
      pruneLayer(job(pr).input, job(pr).output, { signal: ac.signal }),
    ]);
    expect(a.status).toBe("aborted");
    expect(a.info.iterations).toBe(0);
    expect(b.status).toBe("aborted");
    expect(b.info.iterations).toBe(0);
    expect(a.weights).toEqual(b.weights);
    expect(a.bias).toEqual(b.bias);
    expect(a.info.l1Norm).toBe(b.info.l1Norm);
    expect(a.info.outputError).toBe(b.info.outputError);
    // No iteration ran: no residuals to report, on either side.
    expect(Number.isNaN(a.info.primalResidual)).toBe(true);
    expect(Number.isNaN(b.info.primalResidual)).toBe(true);
  });

  it("rejects invalid jobs with the same error class, code, message and fields as pruneLayer", async () => {
    const pr = randomLayer(41, 50, 8, 4);
    const bad = { ...job(pr).options, unknownOption: 1 } as unknown as LayerOptions;
    const local = await pruneLayer(job(pr).input, job(pr).output, bad).catch((e: unknown) => e);
    const remote = await pool.solve({ ...job(pr), options: bad }).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(ValidationError);
    expect(remote).toBeInstanceOf(ValidationError);
    expect(remote).toBeInstanceOf(Error);
    const [l, r] = [local as ValidationError, remote as ValidationError];
    expect(r.name).toBe("ValidationError");
    expect(r.code).toBe("invalid_option");
    expect(r.message).toBe(l.message);
    expect(r.field).toBe(l.field);

    const input = pr.input.slice();
    input[3 * 8 + 5] = NaN;
    const nf = await pool.solve({ ...job(pr), input: matrix(input, 50, 8) }).catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(NonFiniteError);
    expect((nf as NonFiniteError).code).toBe("non_finite");
    expect([(nf as NonFiniteError).row, (nf as NonFiniteError).col]).toEqual([3, 5]);

    // Functions and signals stay in the main thread: they belong in the hooks.
    const withCallback = { ...job(pr), options: { onProgress: () => {} } } as never;
    await expect(pool.solve(withCallback)).rejects.toBeInstanceOf(ValidationError);
    // The pool still works after errors.
    expect((await pool.solve(job(pr))).status).not.toBe(undefined);
  });
});

/** A fake worker that starts, then never answers a job (a solve stuck in a long setup). */
function stuckWorker(log: string[]): WorkerHandle {
  let listener: ((m: FromWorker) => void) | undefined;
  return {
    postMessage: (m: ToWorker) => {
      log.push(m.type);
      if (m.type === "init") queueMicrotask(() => listener?.({ type: "ready", simd: true }));
    },
    onMessage: (l) => (listener = l),
    onError: () => {},
    terminate: async () => {
      log.push("terminate");
    },
  };
}

describe("layer pool: unresponsive and failing workers", () => {
  it("terminates a worker that does not answer a cancel within the grace period, then spawns a new one", async () => {
    const logs: string[][] = [];
    const module = await compileModule();
    const pool = await createLayerPool({
      size: 1, module, cancelGraceMs: 50,
      spawn: () => {
        const log: string[] = [];
        logs.push(log);
        return stuckWorker(log);
      },
    });
    const pr = randomLayer(51, 20, 4, 3);
    const ac = new AbortController();
    const pending = pool.solve(job(pr), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort("stop");
    const t = performance.now();
    const err = await pending.catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("AbortError");
    expect(performance.now() - t).toBeGreaterThanOrEqual(40);
    expect(logs[0]).toEqual(["init", "solve", "cancel", "terminate"]);
    // The next job runs on a fresh worker.
    const next = pool.solve(job(pr));
    await new Promise((r) => setTimeout(r, 20));
    expect(logs.length).toBe(2);
    expect(logs[1]).toEqual(["init", "solve"]);
    await pool.close();
    await expect(next).rejects.toThrow(/closed/);
    expect(logs[1].at(-1)).toBe("terminate");
    await expect(pool.solve(job(pr))).rejects.toThrow(/closed/);
  });

  it("rejects the job of a worker that crashes and replaces the worker", async () => {
    const module = await compileModule();
    let count = 0;
    const pool = await createLayerPool({
      size: 1, module,
      spawn: async () => {
        const h = await spawnLayerWorker();
        if (count++ > 0) return h;
        let fail: ((e: Error) => void) | undefined;
        return {
          ...h,
          onError: (l) => {
            fail = l;
            h.onError(l);
          },
          postMessage: (m: ToWorker, t?: Transferable[]) => {
            if (m.type === "solve") setTimeout(() => fail?.(new Error("simulated crash")), 0);
            else h.postMessage(m, t);
          },
        };
      },
    });
    const pr = randomLayer(61, 100, 10, 5);
    await expect(pool.solve(job(pr))).rejects.toThrow(/simulated crash/);
    const r = await pool.solve(job(pr));
    expectIdentical(r, await pruneLayer(job(pr).input, job(pr).output));
    expect(count).toBe(2);
    await pool.close();
  });
});

describe("layer pool: process lifetime", () => {
  const dir = mkdtempSync(join(tmpdir(), "net-trim-pool-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  const bindings = pathToFileURL(join(import.meta.dirname, "../bindings/")).href;

  function runScript(name: string, body: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    const file = join(dir, name);
    writeFileSync(file, `import { createLayerPool } from ${JSON.stringify(bindings + "workers/pool.ts")};\n${body}\n`);
    const t = performance.now();
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [tsxCli, file], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "", stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: performance.now() - t });
      });
    });
  }

  const solveTwo = `
const pool = await createLayerPool({ size: 2 });
const x = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
const y = { data: new Float32Array([1, 0, 2]), rows: 3, cols: 1 };
const rs = await Promise.all([pool.solve({ input: x, output: y }), pool.solve({ input: x, output: y })]);
console.log(rs.map((r) => r.status).join(","));`;

  it("close() ends the workers and the process exits", async () => {
    const r = await runScript("close.mts", `${solveTwo}\nawait pool.close();\nconsole.log("closed");`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/closed/);
  });

  it("idle workers do not keep the process alive even without close()", async () => {
    const r = await runScript("forgotten.mts", solveTwo);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(solved|solved_inaccurate|max_iter_reached|infeasible),/);
  });
});
