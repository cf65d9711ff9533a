// report.json and the printed table of a model-graph prune (pruneGraph's result).
import type { GraphResult } from "../bindings/index.ts";
import { guaranteeLine, reportHead, textTable } from "./report.ts";

/** `density`: the --keep-per-layer targets (each layer's line then names its own). */
export function buildGraphReport(result: GraphResult, context: Record<string, unknown>, density?: number | Record<string, number>) {
  const layers = result.layers.map((l) => {
    const { info, channels, ...rest } = l;
    const strip = (i: typeof info) => {
      if (!i) return undefined;
      const { nnzPerNeuron: _n, ...kept } = i;
      return kept;
    };
    const target = density === undefined ? undefined : typeof density === "number" ? density : density[l.name];
    return { ...rest, ...(target !== undefined ? { targetKeptFraction: target } : {}), info: strip(info), ...(channels ? { channels: channels.map(strip) } : {}) };
  });
  return {
    ...reportHead(context, result.status, layers),
    foldedBatchNorms: result.foldedBatchNorms,
    outputError: result.outputError,
    execution: result.execution,
    ...(result.keep ? { keep: result.keep } : {}),
    ...(result.refit ? { refit: result.refit } : {}),
    // Either one (JSON drops the undefined one).
    guarantee: result.guarantee,
    guaranteeAbsent: result.guarantee ? undefined : result.guaranteeAbsent ?? "not computed",
    timeMs: result.timeMs,
  };
}

type GraphReport = ReturnType<typeof buildGraphReport>;

export function formatGraphTable(report: GraphReport): string {
  const refitted = report.refit !== undefined;
  const targeted = report.layers.some((l) => l.targetKeptFraction !== undefined);
  const header = ["layer", "op", "program", "status", "nnz before → after", ...(targeted ? ["target %"] : []), "kept %", "rel. error", "iterations", "time", ...(refitted ? ["after refit"] : [])];
  const rows = report.layers.map((l) => [
    l.name, l.op, l.program, l.status, `${l.nnzBefore} → ${l.nnzAfter}`, ...(targeted ? [(100 * (l.targetKeptFraction ?? NaN)).toFixed(1)] : []),
    (100 * l.keptFraction).toFixed(1), l.relativeError.toFixed(4), String(l.iterations), `${(l.timeMs / 1000).toFixed(2)} s`,
    ...(refitted ? [l.refit ? l.refit.relativeError.toFixed(4) : "not refitted"] : []),
  ]);
  const t = report.total;
  const k = report.keep;
  return [
    ...textTable(header, rows, [false, false, false, false, true, ...(targeted ? [true] : []), true, true, true, true, ...(refitted ? [true] : [])]), "",
    ...(k ? [`keep: ${+(100 * k.target).toPrecision(4)}% of all weights asked, ${(100 * k.keptFraction).toFixed(2)}% kept ` + (k.allocation === "common-gain"
      ? `at one gain for every layer, ${+k.gain.toPrecision(4)} (${k.probes.length} gains tried)`
      : `at per-layer gains ${k.gains.map((g) => +g.toPrecision(3)).join(", ")} (${k.steps.length} walk steps over ${k.ladders.reduce((s, l) => s + l.length, 0)} ladder solves)`)] : []),
    ...(refitted ? ["rel. error: the Net-Trim weights on the input each was solved with (within its budget); after refit: the returned weights on the refitted graph's input", ""] : []),
    `total: ${t.nnzBefore} → ${t.nnzAfter} nonzeros of ${t.parameters} parameters, ${(100 * t.keptFraction).toFixed(2)}% kept`,
    `measured end-to-end error on the calibration samples${refitted ? " (the returned, refitted graph)" : ""}: ${report.outputError.measured.toPrecision(4)} (relative ${report.outputError.relative.toFixed(4)})` +
      (report.foldedBatchNorms.length > 0 ? `; ${report.foldedBatchNorms.length} BatchNorm layers folded into the layer before them` : ""),
    report.guarantee ? guaranteeLine(report.guarantee) : `guarantee: none (${report.guaranteeAbsent})`,
  ].join("\n");
}
