// A property test of the compact decoder (fast-check, fixed seeds): files with bytes flipped, cut,
// inserted or overwritten; the same with the checksum made valid again (so the edits reach the
// range decoder, the topology and the graph); and well-coded files whose topology fields hold odd
// values. Each must decode to a graph or be refused with a ModelFormatError: never another error,
// never a hang (each case is timed).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph, decodeCompact, encodeCompact, isPrunable, magnitudePruneGraph, ModelFormatError, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { readLayersModelBytes } from "../bindings/node/files.ts";
import { crc32, HEADER_BYTES, writeCompactFile } from "../bindings/formats/compact/header.ts";
import { RangeDecoder, RangeEncoder } from "../bindings/formats/compact/range-coder.ts";
import { decodeText, encodeText } from "../bindings/formats/compact/text-coding.ts";
import { encodeTensor, FLOAT32 } from "../bindings/formats/compact/tensor-coding.ts";
import { topologyOf } from "../bindings/formats/compact/topology.ts";

function cnnPruned(): ModelGraph {
  const f = readLayersModelBytes("models/mnist-cnn");
  const g = parseLayersModelGraph(f.modelJson, f.weightData);
  const keep: Record<string, number> = {};
  for (const n of g.nodes) if (isPrunable(n)) keep[n.name] = Math.round((n.kernel.length + (n.bias?.length ?? 0)) * 0.05);
  return magnitudePruneGraph(g, keep);
}

const small = buildGraph([
  { name: "x", op: "input", inputs: [], shape: [6, 6, 2] },
  { name: "c", op: "conv2d", inputs: ["x"], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: "same", dilation: [1, 1], activation: "relu", kernel: new Float32Array(54).map((_, i) => (i % 4 ? 0 : i / 7)), bias: new Float32Array([0.5, 0, -2]) },
  { name: "b", op: "batchNorm", inputs: ["c"], axis: -1, epsilon: 0.001, gamma: null, beta: new Float32Array(3).fill(1), mean: new Float32Array(3), variance: new Float32Array(3).fill(4) },
  { name: "p", op: "maxPool2d", inputs: ["b"], poolSize: [2, 2], strides: [2, 2], padding: "valid" },
  { name: "f", op: "flatten", inputs: ["p"] },
  { name: "d", op: "dense", inputs: ["f"], units: 4, activation: "linear", kernel: new Float32Array(108).map((_, i) => (i % 9 ? 0 : -i)), bias: null },
], ["x"], ["d"]);
const models = [cnnPruned(), small];
const files = models.map((m) => encodeCompact(m));

/** Decodes; returns "read" or "refused"; rethrows anything that is not a ModelFormatError. */
function outcome(bytes: Uint8Array): string {
  const start = performance.now();
  try {
    decodeCompact(bytes);
    return "read";
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return "refused";
  } finally {
    expect(performance.now() - start).toBeLessThan(5_000);
  }
}

const byteEdit = fc.record({
  model: fc.integer({ min: 0, max: files.length - 1 }),
  kind: fc.constantFrom("flip", "cut", "insert", "overwrite"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

function applyEdit({ model, kind, at, bytes }: { model: number; kind: string; at: number; bytes: Uint8Array }): Uint8Array {
  const src = files[model];
  const i = Math.floor(at * src.length);
  if (kind === "cut") return src.slice(0, i);
  if (kind === "insert") return new Uint8Array([...src.subarray(0, i), ...bytes, ...src.subarray(i)]);
  const out = src.slice();
  bytes.forEach((b, k) => { if (i + k < out.length) out[i + k] = kind === "flip" ? out[i + k] ^ (b || 1) : b; });
  return out;
}

/** The payload length and checksum made to fit the edited bytes again. */
function resigned(file: Uint8Array): Uint8Array {
  if (file.length < HEADER_BYTES) return file;
  const out = file.slice();
  const view = new DataView(out.buffer);
  view.setUint32(24, out.length - HEADER_BYTES, true);
  view.setUint32(28, crc32(out, HEADER_BYTES, out.length, crc32(out, 0, 28)), true);
  return out;
}

/** A file coded the encoder's way from a topology JSON and tensors, with the header's counts taken from its table. */
function crafted(json: Record<string, unknown>, bits: Uint32Array[], counts: number[]): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const enc = new RangeEncoder();
  encodeText(enc, text);
  bits.forEach((b, i) => { if (counts[i] > 0) encodeTensor(enc, b, FLOAT32, counts[i]); });
  const table = Array.isArray(json.tensors) ? json.tensors as unknown[] : [];
  const numbers = table.map((t) => (Array.isArray(t) && typeof t[0] === "number" && typeof t[1] === "number" ? [t[0], t[1]] : [0, 0]));
  const total = numbers.reduce((s, t) => s + t[0], 0), nz = numbers.reduce((s, t) => s + t[1], 0);
  const clamp = (v: number) => (Number.isInteger(v) && v >= 0 && v < 2 ** 32 ? v : 0);
  return writeCompactFile({ values: "float32", topologyBytes: text.length, tensorCount: table.length, totalValues: clamp(total), totalNonzeros: clamp(nz) }, enc.finish());
}

describe("compact decoder on mutated files", () => {
  it("byte edits: refused by the checksum or the header (a ModelFormatError), or unchanged", () => {
    const seen = new Set<string>();
    fc.assert(fc.property(byteEdit, (edit) => {
      const out = applyEdit(edit);
      const result = outcome(out);
      const same = out.length === files[edit.model].length && out.every((b, i) => b === files[edit.model][i]);
      expect(result).toBe(same ? "read" : "refused");
      seen.add(result);
    }), { seed: 20261202, numRuns: 600 });
    expect(seen.has("refused")).toBe(true);
  });

  it("byte edits with the checksum made valid: a graph or a ModelFormatError, never another error", () => {
    const seen = new Set<string>();
    fc.assert(fc.property(byteEdit, (edit) => { seen.add(outcome(resigned(applyEdit(edit)))); }), { seed: 20261203, numRuns: 800 });
    expect(seen.has("refused")).toBe(true);
  });

  it("well-coded files whose topology fields hold odd values: a graph or a ModelFormatError", () => {
    const ODD: unknown[] = [0, -1, 1, 2, 3, 7, 1000, 2 ** 31, 1.5, -(2 ** 40), null, true, "relu", "same", "x", "", [], [1], [2, 2], [1, 2, 3, 4], {}, { a: 1 }];
    // The topology JSON and tensors of the small model, re-coded after each mutation.
    const { topology, tensors } = topologyOf(small);
    const bits = tensors.map((t) => new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length));
    const counts = bits.map((b) => b.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0));
    const base = JSON.parse(JSON.stringify({ ...topology, tensors: bits.map((b, i) => [b.length, counts[i]]) })) as Record<string, unknown[]>;
    const craft = (json: Record<string, unknown>) => crafted(json, bits, counts);
    // The crafting itself is right: unmutated, it decodes to the model.
    expect(decodeCompact(craft(base)).nodes.map((n) => n.name)).toEqual(small.nodes.map((n) => n.name));
    const seen = new Set<string>();
    const mutation = fc.record({
      part: fc.constantFrom("nodes", "nodes", "nodes", "tensors", "inputs", "outputs"),
      i: fc.nat(), j: fc.nat(), value: fc.constantFrom(...ODD), deep: fc.boolean(),
    });
    fc.assert(fc.property(mutation, ({ part, i, j, value, deep }) => {
      const json = JSON.parse(JSON.stringify(base)) as Record<string, unknown[]>;
      const list = json[part];
      const item = list[i % list.length];
      if (Array.isArray(item) && item.length > 0) {
        const k = j % item.length;
        if (deep && Array.isArray(item[k]) && (item[k] as unknown[]).length > 0) (item[k] as unknown[])[0] = value;
        else item[k] = value;
      } else list[i % list.length] = value;
      seen.add(outcome(craft(json)));
    }), { seed: 20261204, numRuns: 1500 });
    expect(seen).toEqual(new Set(["read", "refused"]));
  });

  it("coded values no encoder writes (a zero among the nonzeros, NaN, Infinity, a position past the end): refused by name", () => {
    const json = (length: number, nonzeros: number) => ({ inputs: ["x"], outputs: ["d"], nodes: [["x", "input", [], [1]], ["d", "dense", ["x"], length, "linear", 0, null]], tensors: [[length, nonzeros]] });
    const refusal = (bits: number[], nonzeros: number, length = bits.length) => {
      try {
        decodeCompact(crafted(json(length, nonzeros), [new Uint32Array(bits)], [nonzeros]));
      } catch (e) {
        expect(e).toBeInstanceOf(ModelFormatError);
        return (e as Error).message;
      }
      return "read";
    };
    expect(refusal([0x3f800000, 0], 2)).toBe('compact model node "d" (dense) kernel[1]: the payload is corrupted; expected a finite nonzero value, received zero');
    expect(refusal([0x7fc00000, 1], 2)).toMatch(/kernel\[0\]: .*received NaN or Infinity/);
    expect(refusal([0xff800000, 0], 1)).toMatch(/kernel\[0\]: .*received NaN or Infinity/);
    expect(refusal([0, 0, 0, 0x3f800000], 1, 3)).toBe('compact model node "d" (dense) kernel: the payload is corrupted; expected 1 positions below 3, received nonzero 1 past the end');
    expect(refusal([0, 0, 0x3f800000], 1)).toBe("read");
  });

  it("the range decoder reads past a cut payload as zeros: no exception, no hang", () => {
    const enc = new RangeEncoder();
    encodeText(enc, new TextEncoder().encode('{"a":1}'));
    const cut = enc.finish().subarray(0, 3);
    const dec = new RangeDecoder(cut);
    expect(decodeText(dec, 100_000).length).toBe(100_000);
    expect(dec.position).toBeGreaterThan(cut.length);
  });
});
