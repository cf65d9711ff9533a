// What `net-trim prune` writes for a chain of Dense layers, and `net-trim merge` exactly the same:
// model.json + weights.bin (the written TF.js model), optionally model.ntz, masks.json and
// report.json, as one list of files for the all-or-nothing writer (atomic-output.ts).
import { masksToJson, writeLayersModel, type NetworkResult, type PruneMode } from "../bindings/index.ts";
import type { OutputFile } from "./atomic-output.ts";
import { layersModelFiles } from "./model-source.ts";

/** The report is built before the files exist, so it names them here. */
export const PRUNE_OUTPUT_FILES = ["model.json", "weights.bin", "masks.json", "report.json"];

export function pruneOutputFiles(
  modelJson: Record<string, unknown>, result: NetworkResult, mode: PruneMode, report: unknown, extra: readonly OutputFile[] = [],
): OutputFile[] {
  const written = writeLayersModel(modelJson, result.network, {
    mode, status: result.status,
    guarantee: {
      theorem: result.guarantee.theorem, relativeError: result.guarantee.relativeError, bound: result.guarantee.bound, holds: result.guarantee.holds,
      appliesToReturnedWeights: result.guarantee.appliesToReturnedWeights,
    },
    ...(result.refit ? { refit: { relativeError: result.refit.relativeError } } : {}),
  });
  return [
    ...layersModelFiles(written),
    ...extra,
    { name: "masks.json", contents: () => JSON.stringify(masksToJson(result.network)) },
    { name: "report.json", contents: () => JSON.stringify(report, null, 2) + "\n" },
  ];
}
