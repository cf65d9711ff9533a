// What the page prunes: a model (bundled or the user's) and calibration samples (bundled digits
// or the user's .npy). Loading, checking, and the messages for files that cannot be used.
import { parseLayersModel, parseNpy, type DenseNetwork, type SampleMatrix } from "./lib.ts";
import { decodeDigits, type Digits } from "./digits-format.ts";
import { FileProblem } from "./file-problem.ts";

export interface ModelSource {
  label: string;
  bundled: boolean;
  modelJson: unknown;
  /** One ArrayBuffer per weightsManifest group. */
  weights: ArrayBuffer[];
  network: DenseNetwork;
}

export interface CalibrationSource extends SampleMatrix {
  label: string;
  bundled: boolean;
}

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const response = await fetch(path);
  if (!response.ok) throw new FileProblem(`could not load the bundled ${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

export async function loadBundled(): Promise<{ model: ModelSource; digits: Digits }> {
  const [modelBytes, weights, digitBytes] = await Promise.all(
    ["data/mnist-mlp/model.json", "data/mnist-mlp/weights.bin", "data/mnist-digits.bin"].map(fetchBytes),
  );
  const modelJson: unknown = JSON.parse(new TextDecoder().decode(modelBytes));
  const network = parseLayersModel(modelJson, [weights]);
  return { model: { label: "bundled MNIST model (models/mnist-mlp)", bundled: true, modelJson, weights: [weights], network }, digits: decodeDigits(digitBytes) };
}

export function bundledCalibration(digits: Digits): CalibrationSource {
  return { label: "bundled MNIST training digits", bundled: true, data: digits.trainX, rows: digits.trainLabels.length, cols: digits.pixels };
}

/** A file's base name: manifests may say "./weights.bin" or "shards/group1-shard1of2". */
const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** The weight files a model.json lists, per manifest group (empty when the manifest is malformed: the parser then says why). */
function manifestPaths(modelJson: unknown): string[][] {
  const manifest = (modelJson as { weightsManifest?: unknown })?.weightsManifest;
  if (!Array.isArray(manifest)) return [];
  return manifest.map((g) => (Array.isArray(g?.paths) ? g.paths.map(String) : []));
}

/**
 * Reads a user's model.json with its weight files, chosen by name among `files` (the other files
 * given, in the same or an earlier pick or drop). Throws FileProblem or the library's
 * ModelFormatError, whose messages name the file and what is wrong.
 */
export async function loadUserModel(modelFile: File, files: Map<string, File>): Promise<ModelSource> {
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(await modelFile.text());
  } catch (e) {
    throw new FileProblem(`${modelFile.name} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof modelJson !== "object" || modelJson === null || !("modelTopology" in modelJson)) {
    throw new FileProblem(`${modelFile.name} is not a TF.js LayersModel model.json (it has no "modelTopology")`);
  }
  const groups = manifestPaths(modelJson);
  const missing = groups.flat().filter((p) => !files.has(baseName(p)));
  if (missing.length > 0) {
    const [s, them] = missing.length > 1 ? ["s", "them"] : ["", "it"];
    throw new FileProblem(
      `${modelFile.name} needs its weight file${s} ${missing.map((p) => `"${baseName(p)}"`).join(", ")}, not given: ` +
      `choose or drop ${modelFile.name} together with ${them} (or add ${them} now).`,
    );
  }
  // parseLayersModel takes one buffer per manifest group: that group's files, concatenated in order.
  const weights = await Promise.all(groups.map(async (paths) => {
    const parts = await Promise.all(paths.map((p) => files.get(baseName(p))!.arrayBuffer()));
    const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
    let o = 0;
    for (const b of parts) {
      out.set(new Uint8Array(b), o);
      o += b.byteLength;
    }
    return out.buffer;
  }));
  const network = parseLayersModel(modelJson, weights);
  return { label: `${modelFile.name} (${groups.flat().map(baseName).join(", ")})`, bundled: false, modelJson, weights, network };
}

export async function loadUserCalibration(file: File): Promise<CalibrationSource> {
  // The library's reader: its errors name the field, the expected and the received value.
  const samples = parseNpy(await file.arrayBuffer(), file.name);
  if (samples.rows === 0) throw new FileProblem(`${file.name} holds no samples (shape 0 × ${samples.cols})`);
  return { ...samples, label: file.name, bundled: false };
}

/** Why these samples cannot calibrate this model, or undefined when they can. */
export function mismatch(model: ModelSource, calibration: CalibrationSource): string | undefined {
  const n = model.network.inputSize;
  if (calibration.cols === n) return undefined;
  const fix = calibration.bundled
    ? "add a calibration .npy of shape [samples, " + n + "]"
    : `give a .npy of shape [samples, ${n}]`;
  return `${calibration.label} has ${calibration.cols} features per sample, but ${model.label} takes ${n} inputs: ${fix}.`;
}

/** The bundled test digits apply when the model maps 28×28 pixels to 10 classes. */
export function takesMnist(network: DenseNetwork, digits: Digits): boolean {
  return network.inputSize === digits.pixels && network.layers[network.layers.length - 1].units === 10;
}

export function describe(network: DenseNetwork): string {
  const sizes = [network.inputSize, ...network.layers.map((l) => l.units)].join(" → ");
  const params = network.layers.reduce((s, l) => s + l.inputs * l.units + (l.useBias ? l.units : 0), 0);
  return `${sizes}, ${network.layers.length} Dense layers, ${params.toLocaleString("en-US")} parameters`;
}
