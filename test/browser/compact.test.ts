// The compact file in real headless Chromium: the same bytes as Node writes (size and CRC-32
// pinned from a Node run), decoded bit for bit.
import { describe, expect, it } from "vitest";
import { decodeCompact, encodeCompact } from "../../bindings/index.ts";
import { crc32 } from "../../bindings/formats/compact/header.ts";
import { SEEDED_FILES, seededCompactGraph } from "../helpers/compact-graph.ts";

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("compact file in Chromium", () => {
  it("writes Node's bytes and decodes them bit for bit", () => {
    expect(typeof navigator).toBe("object");
    const graph = seededCompactGraph();
    for (const values of ["float32", "float16"] as const) {
      const bytes = encodeCompact(graph, { values });
      expect([bytes.length, crc32(bytes, 0, bytes.length)]).toEqual(SEEDED_FILES[values]);
    }
    const decoded = decodeCompact(encodeCompact(graph));
    const weights = (g: typeof graph) => g.nodes.flatMap((n) => Object.values(n).filter((v): v is Float32Array => v instanceof Float32Array).map(bitsOf));
    expect(weights(decoded)).toEqual(weights(graph));
  });
});
