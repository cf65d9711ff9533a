// Long use (issue 12), short version of bench/soak.bench.ts: 60 pruneLayer calls of varied shapes
// in one process with a bad input, an abort mid-solve and an out-of-memory refusal every 20, run
// twice over; then 20 of them on one worker pool. The wasm memory does not grow on the second
// pass, and every outcome is bit-identical to the same call on a fresh WebAssembly instance.
import { describe, expect, it } from "vitest";
import { compileModule, createLayerPool, init, instantiate, pruneLayer, pruneLayerWith } from "../bindings/index.ts";
import { runCall, soakCalls, type Outcome, type Solve } from "./helpers/long-use.ts";

const calls = soakCalls(60, 2026, { incidentEvery: 20, threadsEvery: 25, shapes: { P: [16, 120], N: [4, 40], M: [1, 12] } });

describe("long use", () => {
  it("60 calls twice in one process: memory bounded, incidents leave no trace, bits equal to a fresh instance", async () => {
    const backend = await init();
    const pass = async () => {
      const out: Outcome[] = [];
      for (const call of calls) out.push(await runCall(call, pruneLayer));
      return out;
    };
    const first = await pass();
    const memoryAfterFirst = backend.memory.buffer.byteLength;
    const second = await pass();
    expect(backend.memory.buffer.byteLength).toBe(memoryAfterFirst);
    expect(second).toEqual(first);

    // Every call on a fresh instance (fresh memory, no history): the same outcome, bit for bit.
    const module = await compileModule(backend.simd);
    const fresh: Outcome[] = [];
    for (const call of calls) {
      const b = await instantiate(module);
      fresh.push(await runCall(call, (x, y, o) => pruneLayerWith(b, x, y, o)));
    }
    expect(fresh).toEqual(first);
    // Each incident really happened, and was followed by a normal solve.
    expect(first.filter((o) => o.kind === "abort").map((o) => o.result)).toEqual(["aborted", "aborted", "aborted"]);
    expect(first.filter((o) => o.kind === "out-of-memory").map((o) => o.result)).toEqual(Array(3).fill("OutOfMemoryError"));
    expect(new Set(first.filter((o) => o.kind === "bad-input").map((o) => o.result))).toEqual(new Set(["NonFiniteError", "ValidationError"]));
  }, 60_000);

  it("20 calls on one worker pool, incidents included: the same outcomes as in this thread", async () => {
    const some = calls.slice(0, 20);
    const here: Outcome[] = [];
    for (const call of some) here.push(await runCall(call, pruneLayer));
    const pool = await createLayerPool({ size: 2 });
    try {
      const onPool: Solve = (input, output, { signal, onProgress, ...options }) => pool.solve({ input, output, options }, { signal, onProgress });
      const pooled: Outcome[] = [];
      for (const call of some) pooled.push(await runCall(call, onPool));
      for (const [i, o] of pooled.entries()) {
        // An abort on the pool lands when the worker reads the cancel message: status only.
        if (o.kind === "abort") expect(o.result).toBe("aborted");
        else expect(o, `call ${i}`).toEqual(here[i]);
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});
