// One layer on several threads (options.threads): the threaded build gives the single-thread
// build's bits for any thread count, says in info which ran, falls back to one thread (and says
// why) where shared memory is missing, refuses bad counts, and leaves no worker behind.
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  compileModule, instantiate, matrix, pruneLayer, pruneLayerWith, ValidationError, type LayerOptions, type LayerResult,
} from "../bindings/index.ts";
import { randomLayer } from "./helpers/problems.ts";
import { expectSameBits } from "./helpers/same-bits.ts";

// A switch to make starting a worker fail (a bundle without net-trim's worker script).
const spawnFails = vi.hoisted(() => ({ on: false }));
vi.mock("../bindings/workers/spawn.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../bindings/workers/spawn.ts")>();
  return {
    ...real,
    spawnLayerWorker: () => (spawnFails.on ? Promise.reject(new Error("no worker script here")) : real.spawnLayerWorker()),
  };
});

type Case = [seed: number, P: number, N: number, M: number, kind: "relu" | "relu+V" | "linear", sparse: boolean];

const CASES: Case[] = [
  [21, 300, 40, 7, "relu", false],
  [22, 257, 33, 5, "relu", true],
  [23, 180, 25, 6, "relu+V", false],
  [24, 410, 61, 9, "linear", true],
  [25, 333, 50, 4, "linear", false],
  // P > 1024: X·B and the Gram cut B into 512-row pieces (assembly/sparse.ts), each thread on its
  // rows; M = 29: a 24-column panel, a group of 4 and one column.
  [29, 1100, 30, 29, "relu", true],
];

function solve(c: Case, extra: LayerOptions): Promise<LayerResult> {
  const [seed, P, N, M, kind, sparse] = c;
  const p = randomLayer(seed, P, N, M, { linear: kind === "linear", zeroInputs: sparse ? 0.7 : 0 });
  const upperBound = kind === "relu+V" ? matrix(p.output.map((y, i) => (y > 0 ? 0 : 0.05 * ((i % 7) - 3))), P, M) : undefined;
  // Linear layers on their samples: the reduced form runs on one thread (tested below).
  const linearForm = kind === "linear" ? "samples" as const : undefined;
  return pruneLayer(matrix(p.input, P, N), matrix(p.output, P, M), {
    kind: kind === "linear" ? "linear" : "relu", upperBound, sparseInput: sparse, linearForm, ...extra,
  });
}

describe("pruneLayer with threads", () => {
  it.each(CASES)("seed %i: P %i, N %i, M %i, %s, sparse %s — 2 and 3 threads give the 1-thread bits", async (...c) => {
    const one = await solve(c, { threads: 1 });
    expect(one.info.threads).toBe(1);
    expect(one.status).toMatch(/^solved/);
    for (const threads of [2, 3]) {
      const many = await solve(c, { threads });
      expect(many.info.threads).toBe(threads);
      expect(many.info.threadsReason).toBeUndefined();
      expectSameBits(one, many);
    }
  });

  it("a linear layer in the reduced form runs on one thread, says why, and gives the same bits", async () => {
    const c: Case = [27, 400, 30, 5, "linear", false];
    const one = await solve(c, { linearForm: "reduced" });
    const many = await solve(c, { linearForm: "reduced", threads: 2 });
    expect([one.info.linearForm, many.info.linearForm, many.info.threads]).toEqual(["reduced", "reduced", 1]);
    expect(many.info.threadsReason).toContain("reduced form");
    expectSameBits(one, many);
  });

  it("more threads than slabs of rows (a tiny layer) still gives the same bits", async () => {
    const c: Case = [26, 20, 6, 3, "relu", false];
    expectSameBits(await solve(c, {}), await solve(c, { threads: 4 }));
  });

  describe("without cross-origin isolation", () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    afterEach(() => {
      delete g.crossOriginIsolated;
    });
    it("runs one thread, says why, and gives the same bits", async () => {
      const c = CASES[0];
      const one = await solve(c, {});
      g.crossOriginIsolated = false;
      const r = await solve(c, { threads: 2 });
      expect(r.info.threads).toBe(1);
      expect(r.info.threadsReason).toContain("not cross-origin isolated");
      expect(r.info.threadsReason).toContain("Cross-Origin-Embedder-Policy: require-corp");
      expectSameBits(one, r);
    });
  });

  it("says why one thread ran where only one can (pruneLayerWith on a given instance)", async () => {
    const p = randomLayer(28, 120, 12, 3);
    const backend = await instantiate(await compileModule());
    const r = await pruneLayerWith(backend, matrix(p.input, 120, 12), matrix(p.output, 120, 3), { threads: 2 });
    expect(r.info.threads).toBe(1);
    expect(r.info.threadsReason).toContain("only pruneLayer and the network drivers' solves in this thread run a layer on several threads");
  });

  it("runs one thread, and says why, when a worker cannot start", async () => {
    const c = CASES[2];
    const one = await solve(c, {});
    spawnFails.on = true;
    try {
      const r = await solve(c, { threads: 2 });
      expect(r.info.threads).toBe(1);
      expect(r.info.threadsReason).toBe("the helper threads could not start (no worker script here)");
      expectSameBits(one, r);
    } finally {
      spawnFails.on = false;
    }
  });

  it("refuses a thread count that is not 'auto' or an integer from 1 to 256", async () => {
    const c = CASES[0];
    for (const bad of [0, -1, 1.5, 257, NaN, "2", null]) {
      let error: unknown;
      try {
        await solve(c, { threads: bad as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain("options.threads");
      expect((error as Error).message).toContain('"auto" or an integer from 1 to 256');
    }
  });

  it("'auto' takes the hardware threads and the same bits", async () => {
    const c = CASES[1];
    const r = await solve(c, { threads: "auto" });
    const { availableParallelism } = await import("node:os");
    expect(r.info.threads).toBe(availableParallelism());
    expectSameBits(await solve(c, {}), r);
  });

  it("ends its workers: a process that solves on 2 threads exits by itself", () => {
    const script = [
      'import { pruneLayer, matrix } from "./bindings/index.ts";',
      'import { randomLayer } from "./test/helpers/problems.ts";',
      "const p = randomLayer(27, 200, 30, 5);",
      "const r = await pruneLayer(matrix(p.input, 200, 30), matrix(p.output, 200, 5), { threads: 2 });",
      "console.log(JSON.stringify({ threads: r.info.threads, status: r.status }));",
    ].join("\n");
    // Would hang (and time out) if a worker were left running.
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("..", import.meta.url), encoding: "utf8", timeout: 60_000,
    });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ threads: 2, status: "solved" });
  });
});
