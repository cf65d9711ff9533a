// report.json and the printed table of a model-graph prune (pruneGraph's result).
import type { GraphResult } from "../bindings/index.ts";
import { packageVersion } from "./report.ts";

export function buildGraphReport(result: GraphResult, context: Record<string, unknown>) {
  const layers = result.layers.map((l) => {
    const { info, channels, ...rest } = l;
    const strip = (i: typeof info) => {
      if (!i) return undefined;
      const { nnzPerNeuron: _n, ...kept } = i;
      return kept;
    };
    return { ...rest, info: strip(info), ...(channels ? { channels: channels.map(strip) } : {}) };
  });
  const sum = (f: (l: (typeof layers)[number]) => number) => layers.reduce((s, l) => s + f(l), 0);
  const parameters = sum((l) => l.parameters);
  return {
    tool: "net-trim",
    version: packageVersion(),
    ...context,
    status: result.status,
    layers,
    foldedBatchNorms: result.foldedBatchNorms,
    total: {
      nnzBefore: sum((l) => l.nnzBefore), nnzAfter: sum((l) => l.nnzAfter), parameters,
      keptFraction: parameters > 0 ? sum((l) => l.nnzAfter) / parameters : 0,
    },
    outputError: result.outputError,
    execution: result.execution,
    timeMs: result.timeMs,
  };
}

type GraphReport = ReturnType<typeof buildGraphReport>;

export function formatGraphTable(report: GraphReport): string {
  const header = ["layer", "op", "program", "status", "nnz before → after", "kept %", "rel. error", "iterations", "time"];
  const rows = report.layers.map((l) => [
    l.name, l.op, l.program, l.status, `${l.nnzBefore} → ${l.nnzAfter}`, (100 * l.keptFraction).toFixed(1),
    l.relativeError.toFixed(4), String(l.iterations), `${(l.timeMs / 1000).toFixed(2)} s`,
  ]);
  const right = [false, false, false, false, true, true, true, true, true];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (right[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd();
  const t = report.total;
  return [
    line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), "",
    `total: ${t.nnzBefore} → ${t.nnzAfter} nonzeros of ${t.parameters} parameters, ${(100 * t.keptFraction).toFixed(2)}% kept`,
    `measured end-to-end error on the calibration samples: ${report.outputError.measured.toPrecision(4)} (relative ${report.outputError.relative.toFixed(4)})` +
      (report.foldedBatchNorms.length > 0 ? `; ${report.foldedBatchNorms.length} BatchNorm layers folded into the layer before them` : ""),
  ].join("\n");
}
