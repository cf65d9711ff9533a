// Reading a whole file, refused by size first: Node cannot read a file over 2 GiB into one buffer
// (readFileSync throws a bare ERR_FS_FILE_TOO_LARGE), so the size is checked on fs.statSync and the
// refusal names the file, its size and the limit.
import * as fs from "node:fs";
import { ModelFormatError } from "../formats/model-format-error.ts";

/** The largest file Node reads into one buffer: 2^31 − 1 bytes. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/** fs.readFileSync(file), or a ModelFormatError naming `where`, the file and its size when it is over 2 GiB. */
export function readFileBounded(file: string, where: string): Buffer {
  const size = fs.statSync(file).size;
  if (size > MAX_FILE_BYTES) {
    throw new ModelFormatError({
      where, file, reason: "Node reads a file into one buffer of at most 2 GiB",
      expected: `a file of at most ${MAX_FILE_BYTES} bytes`, received: `${file} of ${size} bytes (${(size / 2 ** 30).toFixed(2)} GiB)`,
    });
  }
  return fs.readFileSync(file);
}
