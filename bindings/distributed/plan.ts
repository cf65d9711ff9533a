// planNetwork: parallel mode's layer problems written out as jobs. The original network's
// signals are computed once (the same forward pass as pruneNetwork's pool path); each layer's
// problem is its input and target signal (content-addressed .npy files), the solver options and
// the budget, listed in manifest.json with their SHA-256 hashes.
import { DEFAULTS } from "../defaults.ts";
import { ShapeError, ValidationError, WorkFolderError } from "../errors.ts";
import { npyBytes } from "../formats/npy-write.ts";
import { applyLayer, frobenius } from "../network/forward.ts";
import { layerKind } from "../network/layer-report.ts";
import { checkDenseNetwork, type DenseNetwork } from "../network/network.ts";
import type { NetworkLayerOptions } from "../network/types.ts";
import { checkLayerFits, denseLayerBytes } from "../solver/memory-check.ts";
import type { MatrixInput } from "../types.ts";
import { toDenseF32 } from "../validate.ts";
import { resolveReweight, withNetworkReweight } from "../validate-reweight.ts";
import {
  canonicalJson, FORMAT, FORMAT_VERSION, MANIFEST, networkHash, sha256, signalFile,
  type FileRef, type LayerProblemEntry, type Manifest,
} from "./format.ts";
import { openWorkStore, type WorkLocation, type WorkStore } from "./store.ts";

export interface PlanOptions {
  /** Only "parallel": cascade mode feeds each layer the pruned network's output, so its layers cannot be solved apart. */
  mode?: "parallel";
  /** ε_ℓ = gain·‖Y^(ℓ)‖_F, one number or one per layer. Default 0.05 (as pruneNetwork). */
  epsilonGain?: number | number[];
  /** Passed to every layer solve, as pruneNetwork's layerOptions (plain values only: they are written to the manifest). */
  layerOptions?: NetworkLayerOptions;
  /** A folder that holds a plan of another model or other options: replace it (its results and claims are deleted). Default false: refuse. */
  replace?: boolean;
}

export interface Plan {
  /** The number of jobs: one per layer. */
  jobs: number;
  manifest: Manifest;
  /** Where it was written. */
  location: string;
  /** False when the folder already held this very plan (its results are kept). */
  written: boolean;
}

const PLAN_KEYS = ["mode", "epsilonGain", "layerOptions", "replace"];
const DRIVER_KEYS = ["kind", "epsilon", "epsilonGain", "upperBound", "fitBias", "signal", "onProgress", "warmStart", "threads"];

function checkOptions(options: PlanOptions, L: number): { gains: number[]; layerOptions: NetworkLayerOptions } {
  for (const key of Object.keys(options)) {
    if (!PLAN_KEYS.includes(key)) {
      throw new ValidationError(`options.${key}`, `one of ${PLAN_KEYS.join(", ")} (a plan is parallel mode with a budget per layer: no density search, no refit)`, (options as Record<string, unknown>)[key]);
    }
  }
  if (options.mode !== undefined && options.mode !== "parallel") {
    throw new ValidationError("options.mode", `"parallel" (cascade mode solves each layer on the pruned network's output: its layers cannot be solved apart)`, options.mode);
  }
  const g = options.epsilonGain ?? DEFAULTS.epsilonGain;
  const gains = Array.isArray(g) ? g : new Array<number>(L).fill(g);
  if (gains.length !== L) throw new ValidationError("options.epsilonGain", `one value per layer (${L})`, g);
  gains.forEach((x, i) => {
    if (typeof x !== "number" || !(x >= 0) || !Number.isFinite(x)) throw new ValidationError(Array.isArray(g) ? `options.epsilonGain[${i}]` : "options.epsilonGain", "a finite number ≥ 0", x);
  });
  const layerOptions = options.layerOptions ?? {};
  for (const [key, v] of Object.entries(layerOptions)) {
    if (DRIVER_KEYS.includes(key)) throw new ValidationError(`options.layerOptions.${key}`, "to be set by the network driver", v);
  }
  return { gains, layerOptions: manifestLayerOptions(withNetworkReweight(layerOptions)) };
}

/**
 * Layer options as the manifest holds them: plain values, and reweight resolved ({rounds, delta}
 * with δ's default filled in; left out for 0 rounds), so that a reader needs no defaults and the
 * solves get what pruneNetwork's and pruneGraph's get.
 */
export function manifestLayerOptions<T extends { reweight?: unknown }>(layerOptions: T): T {
  const { reweight: asked, ...plain } = layerOptions;
  checkPlainLayerOptions(plain);
  const reweight = resolveReweight(asked, "options.layerOptions.reweight");
  return { ...plain, ...(reweight ? { reweight } : {}) } as T;
}

/** A signal as the .npy file named by the hash of its bytes (one file for equal signals). */
export function keepSignal(files: Map<string, Uint8Array>, data: Float32Array, shape: number[]): FileRef {
  const bytes = npyBytes(data, shape);
  const hash = sha256(bytes);
  files.set(signalFile(hash), bytes);
  return { file: signalFile(hash), sha256: hash, shape };
}

/** A problem's hash: its entry with the model's and the calibration's. */
export const problemHash = (entry: object, model: string, calibration: string) => sha256(canonicalJson({ entry, model, calibration }));

/** Layer options go into manifest.json: plain values only. */
function checkPlainLayerOptions(layerOptions: object): void {
  for (const [key, v] of Object.entries(layerOptions)) {
    const plain = typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
    if (!plain) throw new ValidationError(`options.layerOptions.${key}`, "a finite number, a string or a boolean (it is written to manifest.json; leave it out for the default)", v);
  }
}

/**
 * Writes one self-contained problem per layer of `network` (a chain of Dense layers) into the
 * work folder, for `solveJob` to solve anywhere and `mergeResults` to assemble. The same model,
 * samples and options give the same folder, byte for byte.
 */
export async function planNetwork(network: DenseNetwork, input: MatrixInput, options: PlanOptions = {}, work: WorkLocation): Promise<Plan> {
  checkDenseNetwork(network);
  const x = toDenseF32(input, "input");
  if (x.cols !== network.inputSize) {
    throw new ShapeError(`input has ${x.cols} features per sample but the network's first layer takes ${network.inputSize}`);
  }
  const L = network.layers.length;
  const { gains, layerOptions } = checkOptions(options, L);
  const P = x.rows;
  network.layers.forEach((l, i) => {
    checkLayerFits(`layer ${i} ("${l.name}", ${l.inputs} inputs → ${l.units} outputs) with ${P} calibration samples`, P, l.inputs, l.units, false);
  });
  const store = openWorkStore(work);

  // The signals: written as they are computed, each under the hash of its bytes.
  const signals: FileRef[] = [];
  const norms: number[] = [];
  const files = new Map<string, Uint8Array>();
  const keep = (data: Float32Array, cols: number) => keepSignal(files, data, [P, cols]);
  signals.push(keep(x.data, x.cols));
  let s = x.data;
  for (let i = 0; i < L; i++) {
    s = applyLayer(network.layers[i], s, P, layerKind(network, i) === "relu");
    signals.push(keep(s, network.layers[i].units));
    norms.push(frobenius(s));
  }

  const model = {
    sha256: networkHash(network), ...(network.source?.modelName ? { name: network.source.modelName } : {}),
    inputSize: network.inputSize, layers: network.layers.map((l) => l.name),
  };
  const calibration = { ...signals[0], samples: P, features: x.cols };
  const layers = network.layers.map((l, i): LayerProblemEntry => {
    const kind = layerKind(network, i);
    const entry: Omit<LayerProblemEntry, "sha256"> = {
      index: i, name: l.name, kind, inputs: l.inputs, units: l.units,
      input: signals[i], target: signals[i + 1], upperBound: null,
      // What pruneNetwork's pool path hands the solver for this layer, field for field.
      solverOptions: { ...layerOptions, kind, fitBias: l.useBias, epsilonGain: gains[i] },
      targetNorm: norms[i], epsilon: gains[i] * norms[i],
      memoryBytes: denseLayerBytes(P, l.inputs, l.units, false).bytes,
    };
    return { ...entry, sha256: problemHash(entry, model.sha256, calibration.sha256) };
  });
  const manifest: Manifest = {
    format: FORMAT, version: FORMAT_VERSION, mode: "parallel", model, calibration,
    options: { epsilonGain: gains, layerOptions }, layers,
  };
  return { jobs: L, manifest, location: store.location, written: await writePlan(store, manifest, files, options.replace === true) };
}

/**
 * Writes the plan's files and manifest.json, unless the folder holds this very plan already
 * (false: left as it is, with its results). Another plan is refused, or with `replace` deleted
 * with its results and claims.
 */
export async function writePlan(store: WorkStore, manifest: Manifest, files: Map<string, Uint8Array>, replace: boolean): Promise<boolean> {
  const text = JSON.stringify(manifest, null, 2) + "\n";
  const { model, calibration } = manifest;
  if (await store.exists(MANIFEST)) {
    const old = new TextDecoder().decode(await store.read(MANIFEST));
    if (old === text) return false;
    if (!replace) {
      let what = "another plan";
      try {
        const m = JSON.parse(old) as Partial<Manifest>;
        what = m.model?.sha256 !== model.sha256 ? `a plan of another model (sha256 ${String(m.model?.sha256).slice(0, 12)}…)`
          : m.calibration?.sha256 !== calibration.sha256 ? "a plan of the same model on other calibration samples" : "a plan of the same model with other options";
      } catch {
        what = "a manifest.json that is not valid JSON";
      }
      throw new WorkFolderError(`${store.location}/${MANIFEST}`, `no plan or this one (model sha256 ${model.sha256.slice(0, 12)}…)`, what, "use another folder, or replace it (CLI: --force)");
    }
    for (const folder of ["results", "claims", "signals"]) await store.remove(folder);
  }
  for (const [name, bytes] of files) await store.write(name, bytes);
  await store.write(MANIFEST, text);
  return true;
}
