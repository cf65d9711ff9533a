// The table rows of a 1-vs-2-threads benchmark (threads.bench.ts, conv-threads.bench.ts): per
// thread count, the whole solves' and the per-iteration turns' medians, the speed-ups against
// 1 thread, and whether every solve returned the first 1-thread solve's bits.
import type { LayerResult } from "../bindings/index.ts";

export interface Solve { r: LayerResult; cpu: number }
export interface Turn { wall: number; cpu: number }

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** One row per thread count (1 and 2), numbers rounded to `digits` decimals. */
export function threadRows(solves: Map<number, Solve[]>, turns: Map<number, Turn[]>, digits = 1): Record<string, unknown>[] {
  const base = solves.get(1)![0].r;
  const wall1 = median(solves.get(1)!.map((s) => s.r.info.totalMs));
  const it1 = median(turns.get(1)!.map((s) => s.wall));
  const round = (x: number) => +x.toFixed(digits);
  return [1, 2].map((t) => {
    const ss = solves.get(t)!, ts = turns.get(t)!;
    const wall = median(ss.map((s) => s.r.info.totalMs));
    const it = median(ts.map((s) => s.wall));
    return {
      threads: ss[0].r.info.threads, iterations: ss[0].r.info.iterations,
      "setup ms": round(median(ss.map((s) => s.r.info.setupMs))),
      "solve ms": round(wall), "solve speed-up": +(wall1 / wall).toFixed(2),
      "solve CPU ms": Math.round(median(ss.map((s) => s.cpu))),
      "ms / iteration": round(it), "iteration speed-up": +(it1 / it).toFixed(2),
      "CPU ms / iteration": round(median(ts.map((s) => s.cpu))),
      // Same bits for any thread count: checked on every solve.
      "same bits": ss.every((s) => s.r.info.iterations === base.info.iterations && s.r.weights.every((w, i) => Object.is(w, base.weights[i]))),
    };
  });
}
