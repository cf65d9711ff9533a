// Progress on stderr: one rewritten line per layer on a terminal, nothing when --quiet or when
// stderr is not a terminal.
import type { NetworkProgress } from "../bindings/index.ts";

interface ProgressSink {
  update(p: NetworkProgress): void;
  clear(): void;
}

export function progressSink(quiet: boolean, maxIter: number): ProgressSink {
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
