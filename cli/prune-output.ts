// What `net-trim merge` writes: the files `net-trim prune` writes for a chain of Dense layers
// (model.json + weights.bin, masks.json, report.json), by the same calls as prune in net-trim.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { masksToJson, writeLayersModel, type NetworkResult, type PruneMode } from "../bindings/index.ts";
import { writeLayersModelDir } from "../bindings/node/files.ts";
import type { buildReport } from "./report.ts";

export const PRUNE_OUTPUT_FILES = ["model.json", "weights.bin", "masks.json", "report.json"];

export function writePruneOutput(outDir: string, modelJson: Record<string, unknown>, result: NetworkResult, mode: PruneMode, report: ReturnType<typeof buildReport>): void {
  const written = writeLayersModel(modelJson, result.network, {
    mode, status: result.status,
    guarantee: {
      theorem: result.guarantee.theorem, relativeError: result.guarantee.relativeError, bound: result.guarantee.bound, holds: result.guarantee.holds,
      appliesToReturnedWeights: result.guarantee.appliesToReturnedWeights,
    },
    ...(result.refit ? { refit: { relativeError: result.refit.relativeError } } : {}),
  });
  writeLayersModelDir(outDir, written);
  fs.writeFileSync(path.join(outDir, "masks.json"), JSON.stringify(masksToJson(result.network)));
  fs.writeFileSync(path.join(outDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
}
