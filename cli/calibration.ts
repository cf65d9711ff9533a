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

function readSamples(file: string): SampleMatrix {
  if (!fs.existsSync(file)) throw new NetTrimError("invalid_option", `calibration file ${file}: no such file`);
  if (fs.statSync(file).isDirectory()) throw new NetTrimError("invalid_option", `calibration file ${file}: expected a .npy or .json file, received a directory`);
  const ext = path.extname(file).toLowerCase();
  if (ext === ".npy") return readNpy(file);
  if (ext === ".json") return parseCalibrationJson(fs.readFileSync(file, "utf8"), path.basename(file));
  // Unknown extension: .npy files start with the magic \x93NUMPY, anything else is read as JSON.
  const head = Buffer.alloc(6);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 6, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head[0] === 0x93 && head.subarray(1).toString("latin1") === "NUMPY") return readNpy(file);
  return parseCalibrationJson(fs.readFileSync(file, "utf8"), path.basename(file));
}

export function checkFinite(m: SampleMatrix, name: string): void {
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new NetTrimError("non_finite", `${name}: sample ${Math.floor(k / m.cols)}, feature ${k % m.cols} is ${m.data[k]}: expected finite numbers only`);
    }
  }
}
