// Long use (issue 12): 1,000 consecutive pruneLayer calls of varied shapes in one process (one in
// 100 on 2 threads), then 200 on one worker pool, with a bad input, an abort mid-solve and an
// out-of-memory refusal every 20 calls (test/helpers/long-use.ts). Every 50 calls: the
// WebAssembly memory of the default instance, the process RSS (the pool's worker threads
// included) and the JS heap, after a GC when run with --expose-gc (npm run bench:soak does).
// Results are compared bit for bit: the in-process calls against the same calls on a fresh
// WebAssembly instance (every --fresh-every-th call, and every call after an incident) and in a
// fresh process (every --child-every-th call, run there without the others, in reverse order); the pool's
// against this thread's (an abort on the pool lands when its worker reads the message: status only).
// Run: npm run bench:soak [-- --calls 1000 --pool-calls 200 --fresh-every 5 --child-every 10].
// Prints the curves and writes bench/results/soak-<date>.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { compileModule, createLayerPool, init, instantiate, pruneLayer, pruneLayerWith } from "../bindings/index.ts";
import { runCall, soakCalls, type Outcome, type SoakCall, type Solve } from "../test/helpers/long-use.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SEED = 12;
const POOL_SEED = 13;
const count = Number(arg("--calls", "1000"));
const poolCount = Number(arg("--pool-calls", "200"));
const freshEvery = Number(arg("--fresh-every", "5"));
const childEvery = Number(arg("--child-every", "10"));
const SAMPLE_EVERY = 50;
const calls = soakCalls(count, SEED, { incidentEvery: 20, threadsEvery: 100 });

// The child: only the listed calls, in a fresh process, their outcomes as JSON on stdout.
const replay = arg("--replay", "");
if (replay !== "") {
  const out: Outcome[] = [];
  for (const i of replay.split(",").map(Number)) out.push(await runCall(calls[i], pruneLayer));
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const gc = (globalThis as { gc?: () => void }).gc;
const MiB = (b: number) => +(b / 2 ** 20).toFixed(1);
interface Sample { call: number; wasmMiB: number; rssMiB: number; heapMiB: number; arrayBuffersMiB: number }
function sample(call: number, wasmBytes: number): Sample {
  gc?.();
  const m = process.memoryUsage();
  return { call, wasmMiB: MiB(wasmBytes), rssMiB: MiB(m.rss), heapMiB: MiB(m.heapUsed), arrayBuffersMiB: MiB(m.arrayBuffers) };
}
const same = (a: Outcome, b: Outcome) => a.result === b.result && a.digest === b.digest && a.iterations === b.iterations;

// 1. The calls in this process.
const backend = await init();
const t0 = performance.now();
const outcomes: Outcome[] = [];
const curve: Sample[] = [sample(0, backend.memory.buffer.byteLength)];
for (const call of calls) {
  outcomes.push(await runCall(call, pruneLayer));
  if ((call.index + 1) % SAMPLE_EVERY === 0) curve.push(sample(call.index + 1, backend.memory.buffer.byteLength));
}
const soakMs = performance.now() - t0;

// 2. Against a fresh instance: every freshEvery-th call and every call after an incident.
const afterIncident = (c: SoakCall) => c.index > 0 && calls[c.index - 1].kind !== "solve";
const freshChecked = calls.filter((c) => c.index % freshEvery === 0 || afterIncident(c));
const module = await compileModule(backend.simd);
const freshMismatches: number[] = [];
for (const call of freshChecked) {
  const b = await instantiate(module);
  const o = await runCall(call, (x, y, opts) => pruneLayerWith(b, x, y, opts));
  if (!same(o, outcomes[call.index])) freshMismatches.push(call.index);
}

// 3. Against a fresh process: every childEvery-th call, without the others, in reverse order.
const childIndices = calls.filter((c) => c.index % childEvery === 0).map((c) => c.index).reverse();
const childOut = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "bench/soak.bench.ts", "--calls", String(count), "--replay", childIndices.join(",")], {
  encoding: "utf8", maxBuffer: 64 * 2 ** 20,
})) as Outcome[];
const childMismatches = childOut.filter((o) => !same(o, outcomes[o.index])).map((o) => o.index);

// 4. One worker pool, 200 calls; compared with the same calls in this thread.
const poolCalls = soakCalls(poolCount, POOL_SEED, { incidentEvery: 20 });
const inThread: Outcome[] = [];
for (const call of poolCalls) inThread.push(await runCall(call, pruneLayer));
const pool = await createLayerPool({ size: 2 });
const onPool: Solve = (input, output, { signal, onProgress, ...options }) => pool.solve({ input, output, options }, { signal, onProgress });
const poolCurve: Sample[] = [sample(0, backend.memory.buffer.byteLength)];
const poolMismatches: number[] = [];
const t1 = performance.now();
for (const call of poolCalls) {
  const o = await runCall(call, onPool);
  const ok = call.kind === "abort" ? o.result === "aborted" : same(o, inThread[call.index]);
  if (!ok) poolMismatches.push(call.index);
  if ((call.index + 1) % SAMPLE_EVERY === 0) poolCurve.push(sample(call.index + 1, backend.memory.buffer.byteLength));
}
const poolMs = performance.now() - t1;
await pool.close();

// Report.
const kinds = (os: Outcome[]) => Object.fromEntries(["solve", "bad-input", "abort", "out-of-memory"].map((k) => [k, os.filter((o) => o.kind === k).length]));
const statuses = Object.entries(outcomes.reduce<Record<string, number>>((a, o) => ({ ...a, [o.result]: (a[o.result] ?? 0) + 1 }), {}));
const growth = (c: Sample[], key: "wasmMiB" | "rssMiB" | "heapMiB") => {
  const half = c[Math.floor((c.length - 1) / 2)][key];
  return +(c[c.length - 1][key] - half).toFixed(1);
};
console.log(`\n${count} pruneLayer calls in one process (${(soakMs / 1000).toFixed(1)} s; gc ${gc ? "forced before each sample" : "not exposed: run with --expose-gc"})`);
console.table(curve);
console.log(`${poolCount} calls on one pool of 2 workers (${(poolMs / 1000).toFixed(1)} s)`);
console.table(poolCurve);
console.log("outcomes:", Object.fromEntries(statuses), "calls by kind:", kinds(outcomes));
console.log(`growth over the second half: wasm ${growth(curve, "wasmMiB")} MiB, RSS ${growth(curve, "rssMiB")} MiB, heap ${growth(curve, "heapMiB")} MiB; ` +
  `pool: RSS ${growth(poolCurve, "rssMiB")} MiB, heap ${growth(poolCurve, "heapMiB")} MiB`);
console.log(`bit-identical: fresh instance ${freshChecked.length - freshMismatches.length}/${freshChecked.length}, ` +
  `fresh process ${childOut.length - childMismatches.length}/${childOut.length}, pool vs this thread ${poolCount - poolMismatches.length}/${poolCount}`);

mkdirSync("bench/results", { recursive: true });
const file = `bench/results/soak-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), node: process.version, gcForced: gc !== undefined, calls: count, poolCalls: poolCount, soakMs, poolMs,
  kinds: kinds(outcomes), statuses: Object.fromEntries(statuses), curve, poolCurve,
  secondHalfGrowthMiB: { wasm: growth(curve, "wasmMiB"), rss: growth(curve, "rssMiB"), heap: growth(curve, "heapMiB"), poolRss: growth(poolCurve, "rssMiB"), poolHeap: growth(poolCurve, "heapMiB") },
  bitIdentical: {
    freshInstance: { checked: freshChecked.length, mismatches: freshMismatches },
    freshProcess: { checked: childOut.length, mismatches: childMismatches },
    poolVsThisThread: { checked: poolCount, mismatches: poolMismatches },
  },
}, null, 2));
console.log(`wrote ${file}`);
if (freshMismatches.length + childMismatches.length + poolMismatches.length > 0) process.exitCode = 1;
