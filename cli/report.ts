// report.json and the table printed after a prune.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { GuaranteeSummary, NetworkResult } from "../bindings/index.ts";

export function packageVersion(): string {
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

interface Counted { nnzBefore: number; nnzAfter: number; parameters: number }

/** The whole model's nonzeros before and after, its parameters and the kept fraction. */
function totalsOf(layers: Counted[]) {
  const sum = (f: (l: Counted) => number) => layers.reduce((s, l) => s + f(l), 0);
  const parameters = sum((l) => l.parameters);
  return {
    nnzBefore: sum((l) => l.nnzBefore), nnzAfter: sum((l) => l.nnzAfter), parameters,
    keptFraction: parameters > 0 ? sum((l) => l.nnzAfter) / parameters : 0,
  };
}

/** A plain-text table: columns padded to their widest cell, `right` ones right-aligned. */
export function textTable(header: string[], rows: string[][], right: boolean[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (right[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** What every report.json starts with: the tool, its version, the run's context, status, layers and totals. */
export function reportHead<L extends Counted>(context: Record<string, unknown>, status: string, layers: L[]) {
  return { tool: "net-trim", version: packageVersion(), ...context, status, layers, total: totalsOf(layers) };
}

export function buildReport(result: NetworkResult, context: Record<string, unknown>) {
  const layers = result.layers.map((l) => {
    const { nnzPerNeuron: _n, ...info } = l.info;
    return {
      name: l.name, kind: l.kind, status: l.status, nnzBefore: l.nnzBefore, nnzAfter: l.nnzAfter, parameters: l.parameters,
      keptFraction: l.keptFraction, epsilon: l.epsilon, relativeError: l.relativeError, iterations: l.iterations, timeMs: l.timeMs, info,
      ...(l.refit ? { refit: l.refit } : {}),
    };
  });
  return {
    ...reportHead(context, result.status, layers),
    guarantee: result.guarantee,
    ...(result.refit ? { refit: result.refit } : {}),
    ...(result.keep ? { keep: result.keep } : {}),
    timeMs: result.timeMs,
  };
}

type Report = ReturnType<typeof buildReport>;

/** The printed line of a Theorem 1/2 guarantee (pruneNetwork's, or pruneGraph's on the graph). */
export function guaranteeLine(g: GuaranteeSummary & { theorem: string }): string {
  return `guarantee, ${g.theorem}: measured end-to-end error ${g.measuredError.toPrecision(4)} (relative ${g.relativeError.toFixed(4)}) ` +
    `${g.holds ? "≤" : ">"} bound ${g.bound.toPrecision(4)}: ${g.holds ? "holds" : "does NOT hold"}` +
    (g.appliesToReturnedWeights ? "" : " (for the weights before the refit)") +
    (g.normsProved ? "" : " (some layer norms estimated by power iteration, not proved)");
}

export function formatTable(report: Report): string {
  const header = ["layer", "kind", "status", "nnz before → after", "kept %", "rel. error", "iterations", "time"];
  const rows = report.layers.map((l) => [
    l.name, l.kind, l.status, `${l.nnzBefore} → ${l.nnzAfter}`, (100 * l.keptFraction).toFixed(1),
    l.relativeError.toFixed(4), String(l.iterations), `${(l.timeMs / 1000).toFixed(2)} s`,
  ]);
  const t = report.total;
  const g = report.guarantee;
  const out = [...textTable(header, rows, [false, false, false, true, true, true, true, true]), ""];
  out.push(`total: ${t.nnzBefore} → ${t.nnzAfter} nonzeros of ${t.parameters} parameters, ${(100 * t.keptFraction).toFixed(2)}% kept`);
  out.push(guaranteeLine(g));
  if (report.refit) {
    const perLayer = report.layers.map((l) => `${l.name} ${l.refit!.unrefittedRelativeError.toFixed(4)} → ${l.refit!.relativeError.toFixed(4)}`).join(", ");
    out.push(`refit on the support: layer errors ${perLayer}`);
    out.push(`refitted network: measured end-to-end error ${report.refit.measuredError.toPrecision(4)} (relative ${report.refit.relativeError.toFixed(4)}); no bound is computed for these weights`);
  }
  return out.join("\n");
}
