// mergeResults: the layers solved as jobs assembled into the NetworkResult pruneNetwork's
// parallel mode returns, bit for bit: every result is checked against its problem's hash, the
// plan against the model given, and the Theorem 1 guarantee is computed on the calibration
// samples the plan was made with. Nothing is merged from a missing, altered or foreign result.
import { WorkFolderError } from "../errors.ts";
import { compareSignals, theorem1 } from "../network/guarantee.ts";
import { layerKind, layerReport } from "../network/layer-report.ts";
import { checkDenseNetwork, type DenseNetwork } from "../network/network.ts";
import type { LayerReport, NetworkResult } from "../network/types.ts";
import type { LayerResult } from "../types.ts";
import { decodeInfo, MANIFEST, networkHash, type Manifest } from "./format.ts";
import { readChecked, readManifest, readResult, readTiming } from "./problem.ts";
import { openWorkStore, type WorkLocation, type WorkStore } from "./store.ts";

/** Refuses a plan made for another model (its hash differs) or of the other kind (chain, graph). */
export function checkPlanOf(store: WorkStore, manifest: Manifest, hash: string, kind: "chain" | "graph"): void {
  const planned = manifest.kind === "graph" ? "graph" : "chain";
  if (planned !== kind) {
    throw new WorkFolderError(`${store.location}/${MANIFEST}`, `a plan of a ${kind === "graph" ? "model graph" : "Dense chain"}`, `the plan of a ${planned === "graph" ? "model graph" : "Dense chain"}`, `merge it with ${planned === "graph" ? "mergeGraphResults" : "mergeResults"}`);
  }
  if (hash !== manifest.model.sha256) {
    throw new WorkFolderError(`${store.location}/${MANIFEST}`, `a plan of this model (sha256 ${hash.slice(0, 12)}…)`,
      `a plan made for another model (sha256 ${manifest.model.sha256.slice(0, 12)}…, layers ${manifest.model.layers.join(", ")})`, "merge with the model that was planned, or plan again");
  }
}

/** Refuses a folder where some layer has no result (naming them); a result of another problem throws in readResult. */
export async function checkAllSolved(store: WorkStore, manifest: Manifest): Promise<void> {
  const L = manifest.layers.length;
  const missing: number[] = [];
  for (let i = 0; i < L; i++) if (!(await readResult(store, manifest, i))) missing.push(i);
  if (missing.length > 0) {
    throw new WorkFolderError(`${store.location}/results`, `a result for each of the ${L} ${manifest.kind === "graph" ? "jobs" : "layers"}`,
      `none for layer${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i} ("${manifest.layers[i].name}")`).join(", ")}`,
      `run net-trim solve --work ${store.location} --layer ${missing[0]}, or --next`);
  }
}

export async function mergeResults(network: DenseNetwork, work: WorkLocation): Promise<NetworkResult> {
  const t0 = performance.now();
  checkDenseNetwork(network);
  const store = openWorkStore(work);
  const manifest = await readManifest(store);
  checkPlanOf(store, manifest, networkHash(network), "chain");
  const L = network.layers.length;
  await checkAllSolved(store, manifest);

  const reports: LayerReport[] = [];
  const layers = [];
  for (let i = 0; i < L; i++) {
    const record = (await readResult(store, manifest, i))!;
    const l = network.layers[i];
    const wBar = await readChecked(store, record.weights, `the file was altered or corrupted after the solve: run net-trim solve --work ${store.location} --layer ${i} again`);
    const weights = wBar.slice(0, l.inputs * l.units);
    const bias = wBar.slice(l.inputs * l.units);
    const timing = await readTiming(store, i);
    const info = decodeInfo(record.info ?? {}, timing ?? { setupMs: NaN, solveMs: NaN, totalMs: NaN });
    const r = { status: record.status, weights, bias, info } as LayerResult;
    reports.push(layerReport(l, layerKind(network, i), r, manifest.layers[i].targetNorm, timing?.wallMs ?? NaN));
    layers.push({ ...l, kernel: weights, bias });
  }

  const x = await readChecked(store, manifest.calibration, "the plan's calibration file was altered or corrupted: plan again");
  const out: DenseNetwork = { ...network, layers };
  // The original network's layer outputs are the plan's targets (hash-checked): read, not computed again.
  const originals: Float32Array[] = [];
  for (const entry of manifest.layers) originals.push(await readChecked(store, entry.target, "the plan's file was altered or corrupted: plan again"));
  const measured = compareSignals(network, out, x, manifest.calibration.samples, originals);
  const guarantee = theorem1(out, measured, reports);
  const status = reports.find((r) => r.status !== "solved")?.status ?? "solved";
  return {
    network: out, status, layers: reports, guarantee,
    execution: { workers: 0, inThread: false, reason: `per-layer jobs (plan, solve, merge) in ${store.location}` },
    timeMs: performance.now() - t0,
  };
}
