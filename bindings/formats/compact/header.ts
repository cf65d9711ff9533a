// The compact file's fixed 32-byte header: magic, version, value encoding, the sizes the decoder
// allocates from (checked against limits before any allocation) and a CRC-32 over the whole file,
// so that a corrupted or truncated download is refused before anything is decoded.
import { ModelFormatError } from "../model-format-error.ts";

/** "NTZ" and a 0 byte: what readModelSource looks for. */
const COMPACT_MAGIC = [0x4e, 0x54, 0x5a, 0x00] as const;
const COMPACT_VERSION = 1;
export const HEADER_BYTES = 32;

export type CompactValues = "float32" | "float16";
const VALUE_CODES: readonly CompactValues[] = ["float32", "float16"];

/** Refused above these (they bound a decode's memory and time): 2^28 values is 1 GiB of float32; 4 MiB of topology JSON is some 20,000 nodes. */
export const MAX_VALUES = 2 ** 28;
export const MAX_TOPOLOGY_BYTES = 2 ** 22;

interface CompactHeader {
  version: number;
  values: CompactValues;
  /** Bytes of the topology JSON (UTF-8), before coding. */
  topologyBytes: number;
  tensorCount: number;
  /** Values in all tensors together, zeros included. */
  totalValues: number;
  /** Stored nonzero values in all tensors together. */
  totalNonzeros: number;
  /** Bytes of the range-coded payload after the header. */
  payloadBytes: number;
}

/** True when the bytes start with the compact format's magic. */
export function isCompactModel(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && COMPACT_MAGIC.every((b, i) => bytes[i] === b);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (the polynomial of zlib, gzip and PNG) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The file's checksum: every byte except the 4 of the checksum field (28..31). */
function fileChecksum(file: Uint8Array): number {
  return crc32(file, HEADER_BYTES, file.length, crc32(file, 0, 28));
}

/** Header + payload, with the checksum filled in. */
export function writeCompactFile(h: Omit<CompactHeader, "version" | "payloadBytes">, payload: Uint8Array): Uint8Array {
  const file = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(file.buffer);
  file.set(COMPACT_MAGIC, 0);
  view.setUint8(4, COMPACT_VERSION);
  view.setUint8(5, VALUE_CODES.indexOf(h.values));
  view.setUint32(8, h.topologyBytes, true);
  view.setUint32(12, h.tensorCount, true);
  view.setUint32(16, h.totalValues, true);
  view.setUint32(20, h.totalNonzeros, true);
  view.setUint32(24, payload.length, true);
  file.set(payload, HEADER_BYTES);
  view.setUint32(28, fileChecksum(file), true);
  return file;
}

function refuse(where: string, expected: string, received: string, reason?: string): never {
  throw new ModelFormatError({ where: `compact model ${where}`, expected, received, ...(reason ? { reason } : {}) });
}

/** Reads and checks the header: magic, version, limits, the file's length and its checksum. */
export function readCompactHeader(file: Uint8Array): CompactHeader {
  if (!(file instanceof Uint8Array)) refuse("bytes", "a Uint8Array or ArrayBuffer", typeof file);
  if (!isCompactModel(file)) {
    refuse("magic (bytes 0..3)", `4E 54 5A 00 ("NTZ\\0")`, [...file.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ") || "an empty file");
  }
  if (file.length < HEADER_BYTES) refuse("header", `${HEADER_BYTES} bytes`, `${file.length} bytes`, "the file is truncated");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = view.getUint8(4);
  if (version !== COMPACT_VERSION) refuse("version (byte 4)", `${COMPACT_VERSION}`, `${version}`, "written by another version of net-trim");
  const valueCode = view.getUint8(5);
  if (valueCode >= VALUE_CODES.length) refuse("value encoding (byte 5)", "0 (float32) or 1 (float16)", `${valueCode}`);
  const reserved = view.getUint16(6, true);
  if (reserved !== 0) refuse("reserved bytes 6..7", "0", `${reserved}`);
  const h: CompactHeader = {
    version, values: VALUE_CODES[valueCode],
    topologyBytes: view.getUint32(8, true), tensorCount: view.getUint32(12, true),
    totalValues: view.getUint32(16, true), totalNonzeros: view.getUint32(20, true), payloadBytes: view.getUint32(24, true),
  };
  if (h.payloadBytes !== file.length - HEADER_BYTES) {
    refuse("payload length (bytes 24..27)", `${file.length - HEADER_BYTES} (the bytes after the header)`, `${h.payloadBytes}`,
      h.payloadBytes > file.length - HEADER_BYTES ? "the file is truncated" : "the file has extra bytes");
  }
  const stored = view.getUint32(28, true);
  const actual = fileChecksum(file);
  if (stored !== actual) refuse("checksum (bytes 28..31)", `CRC-32 ${actual.toString(16).padStart(8, "0")} of the file`, stored.toString(16).padStart(8, "0"), "the file is corrupted");
  if (h.topologyBytes < 2 || h.topologyBytes > MAX_TOPOLOGY_BYTES) refuse("topology length (bytes 8..11)", `2..${MAX_TOPOLOGY_BYTES}`, `${h.topologyBytes}`);
  if (h.totalValues > MAX_VALUES) refuse("total values (bytes 16..19)", `at most ${MAX_VALUES}`, `${h.totalValues}`);
  if (h.totalNonzeros > h.totalValues) refuse("total nonzeros (bytes 20..23)", `at most the total values ${h.totalValues}`, `${h.totalNonzeros}`);
  if (h.tensorCount > h.totalValues) refuse("tensor count (bytes 12..15)", `at most the total values ${h.totalValues} (no tensor is empty)`, `${h.tensorCount}`);
  return h;
}
