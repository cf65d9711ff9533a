// Reading a work folder back: the manifest, a layer's signals and its result, each checked
// against the hashes the manifest or the result records. Every refusal names the file.
import { WorkFolderError } from "../errors.ts";
import { parseNpy } from "../formats/samples.ts";
import {
  FORMAT, FORMAT_VERSION, MANIFEST, recordHash, resultRecord, resultTiming, sha256,
  type FileRef, type Manifest, type ResultRecord, type TimingRecord,
} from "./format.ts";
import type { WorkStore } from "./store.ts";

const where = (store: WorkStore, name: string) => `${store.location}/${name}`;

async function readJson(store: WorkStore, name: string, what: string): Promise<unknown> {
  const bytes = await store.read(name);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new WorkFolderError(where(store, name), what, `a file that is not valid JSON (${(e as Error).message})`, "the file is corrupted");
  }
}

export async function readManifest(store: WorkStore): Promise<Manifest> {
  if (!(await store.exists(MANIFEST))) {
    throw new WorkFolderError(where(store, MANIFEST), "a plan (run net-trim plan … --work first)", "no such file");
  }
  const m = (await readJson(store, MANIFEST, "a net-trim plan")) as Partial<Manifest>;
  if (m?.format !== FORMAT || m.version !== FORMAT_VERSION || !Array.isArray(m.layers)) {
    throw new WorkFolderError(where(store, MANIFEST), `a net-trim plan (format "${FORMAT}", version ${FORMAT_VERSION})`, `format ${JSON.stringify(m?.format)}, version ${JSON.stringify(m?.version)}`);
  }
  return m as Manifest;
}

export function layerEntry(manifest: Manifest, layer: number, store: WorkStore) {
  if (!Number.isInteger(layer) || layer < 0 || layer >= manifest.layers.length) {
    throw new WorkFolderError(where(store, MANIFEST), `a layer index from 0 to ${manifest.layers.length - 1}`, `layer ${layer}`);
  }
  return manifest.layers[layer];
}

/** A signal or weights file, its bytes checked against the recorded hash and shape. */
export async function readChecked(store: WorkStore, ref: FileRef, hint: string): Promise<Float32Array> {
  const bytes = await store.read(ref.file);
  const hash = sha256(bytes);
  if (hash !== ref.sha256) throw new WorkFolderError(where(store, ref.file), `sha256 ${ref.sha256}`, `sha256 ${hash}`, hint);
  // The bytes are the plan's own (the hash says so): float32, C order, as npyBytes writes them.
  // Copying the data at once is 3–4× faster than parsing value by value; any other header goes
  // through parseNpy, which names what is wrong.
  const headerLength = bytes.length >= 10 && bytes[6] === 1 ? bytes[8] | (bytes[9] << 8) : -1;
  const header = headerLength > 0 ? new TextDecoder("latin1").decode(bytes.subarray(10, 10 + headerLength)) : "";
  const count = ref.shape.reduce((a, b) => a * b, 1);
  if (header.startsWith(`{'descr': '<f4', 'fortran_order': False, 'shape': (${ref.shape.join(", ")}), }`) && bytes.length === 10 + headerLength + 4 * count) {
    return new Float32Array(bytes.slice(10 + headerLength).buffer);
  }
  const m = parseNpy(bytes, where(store, ref.file));
  const shape = m.sampleShape ? [m.rows, ...m.sampleShape] : [m.rows, m.cols];
  if (shape.join() !== ref.shape.join()) throw new WorkFolderError(where(store, ref.file), `shape [${ref.shape.join(", ")}]`, `shape [${shape.join(", ")}]`, hint);
  return m.data;
}

/**
 * The result record of a layer, or undefined when there is none. Throws when it is not a result
 * of this very problem or was altered after it was written.
 */
export async function readResult(store: WorkStore, manifest: Manifest, layer: number): Promise<ResultRecord | undefined> {
  const name = resultRecord(layer);
  if (!(await store.exists(name))) return undefined;
  const again = `run net-trim solve --work ${store.location} --layer ${layer} again`;
  const r = (await readJson(store, name, "a layer result")) as ResultRecord;
  if (r?.format !== "net-trim-result" || typeof r.sha256 !== "string" || recordHash(r) !== r.sha256) {
    throw new WorkFolderError(where(store, name), "a layer result whose sha256 matches its content", r?.sha256 ? `content of sha256 ${recordHash(r)}, recorded ${r.sha256}` : "no recorded sha256", `the file was altered or corrupted: ${again}`);
  }
  const entry = manifest.layers[layer];
  if (r.layer !== layer || r.problem !== entry.sha256) {
    throw new WorkFolderError(where(store, name), `the result of layer ${layer} ("${entry.name}", problem sha256 ${entry.sha256.slice(0, 12)}…)`,
      `a result of layer ${r.layer} ("${r.name}", problem sha256 ${String(r.problem).slice(0, 12)}…)`, `it solves another problem: ${again}`);
  }
  return r;
}

export async function readTiming(store: WorkStore, layer: number): Promise<TimingRecord | undefined> {
  if (!(await store.exists(resultTiming(layer)))) return undefined;
  try {
    return (await readJson(store, resultTiming(layer), "timings")) as TimingRecord;
  } catch {
    return undefined; // timings are informational: a damaged file does not stop a merge
  }
}
