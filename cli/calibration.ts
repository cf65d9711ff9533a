// Calibration samples from a file: .npy, or JSON (an array of rows), sniffed when the extension
// says neither.
import * as fs from "node:fs";
import * as path from "node:path";
import { NetTrimError } from "../bindings/index.ts";
import { parseCalibrationJson, readNpy, type SampleMatrix } from "../bindings/node/files.ts";

export function readCalibration(file: string): SampleMatrix {
  const m = readSamples(file);
  if (m.rows === 0) throw new NetTrimError("invalid_option", `calibration file ${file}: expected at least 1 sample, received 0 (shape [0, ${m.cols}])`);
  return m;
}

/** V8's longest string (2^29 − 24 UTF-16 units): a JSON file read as text cannot be longer. */
const MAX_JSON_BYTES = 2 ** 29 - 24;

function readJson(file: string): SampleMatrix {
  const size = fs.statSync(file).size;
  if (size > MAX_JSON_BYTES) {
    throw new NetTrimError("invalid_option", `calibration file ${file}: expected a JSON file of at most ${MAX_JSON_BYTES} bytes (the longest string JavaScript holds), received ${size} bytes: write the samples as .npy instead`);
  }
  return parseCalibrationJson(fs.readFileSync(file, "utf8"), path.basename(file));
}

function readSamples(file: string): SampleMatrix {
  if (!fs.existsSync(file)) throw new NetTrimError("invalid_option", `calibration file ${file}: no such file`);
  if (fs.statSync(file).isDirectory()) throw new NetTrimError("invalid_option", `calibration file ${file}: expected a .npy or .json file, received a directory`);
  const ext = path.extname(file).toLowerCase();
  if (ext === ".npy") return readNpy(file);
  if (ext === ".json") return readJson(file);
  // Unknown extension: .npy files start with the magic \x93NUMPY, anything else is read as JSON.
  const head = Buffer.alloc(6);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 6, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head[0] === 0x93 && head.subarray(1).toString("latin1") === "NUMPY") return readNpy(file);
  return readJson(file);
}

export function checkFinite(m: SampleMatrix, name: string): void {
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new NetTrimError("non_finite", `${name}: sample ${Math.floor(k / m.cols)}, feature ${k % m.cols} is ${m.data[k]}: expected finite numbers only`);
    }
  }
}
