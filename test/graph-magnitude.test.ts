// magnitudePruneGraph, the baseline next to pruneGraph: each named node keeps exactly the count it
// is given, chosen by rank (recomputed here by counting, not by sorting), ties by position.
import { describe, expect, it } from "vitest";
import { buildGraph, magnitudePruneGraph, ValidationError, type ModelGraph } from "../bindings/index.ts";
import { gaussian } from "./helpers/problems.ts";

function smallCnn(): ModelGraph {
  const g = gaussian(5);
  const round = (v: number) => Math.round(v * 8) / 8; // coarse values: many ties in |w|
  return buildGraph([
    { name: "x", op: "input", inputs: [], shape: [6, 6, 2] },
    { name: "c1", op: "conv2d", inputs: ["x"], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: "valid", dilation: [1, 1], activation: "relu",
      kernel: new Float32Array(3 * 3 * 2 * 3).map(() => round(g())), bias: new Float32Array(3).map(() => round(g())) },
    { name: "f", op: "flatten", inputs: ["c1"] },
    { name: "d1", op: "dense", inputs: ["f"], units: 4, activation: "relu", kernel: new Float32Array(48 * 4).map(() => round(g())), bias: null },
    { name: "out", op: "dense", inputs: ["d1"], units: 2, activation: "linear", kernel: new Float32Array(8).map(() => round(g())), bias: new Float32Array(2).map(() => round(g())) },
  ], ["x"], ["out"]);
}

/** Kept positions of kernel ++ bias: position j is kept when fewer than `count` entries outrank it. */
function expectedKept(values: number[], count: number): boolean[] {
  return values.map((v, j) => values.filter((u, i) => Math.abs(u) > Math.abs(v) || (Math.abs(u) === Math.abs(v) && i < j)).length < count);
}

describe("magnitudePruneGraph", () => {
  it("keeps exactly the count per named node, the largest |w| over kernel and bias, ties by position", () => {
    const graph = smallCnn();
    const before = JSON.stringify(graph.nodes.map((n) => ("kernel" in n ? [Array.from(n.kernel), n.bias && Array.from(n.bias)] : n.name)));
    const keep = { c1: 17, d1: 50, out: 3 };
    const pruned = magnitudePruneGraph(graph, keep);
    for (const [name, count] of Object.entries(keep)) {
      const o = graph.nodes.find((n) => n.name === name)!, p = pruned.nodes.find((n) => n.name === name)!;
      if (!("kernel" in o) || !("kernel" in p)) throw new Error("not prunable");
      const values = [...o.kernel, ...(o.bias ?? [])];
      const got = [...p.kernel, ...(p.bias ?? [])];
      const kept = expectedKept(values, count);
      expect(got).toEqual(values.map((v, j) => (kept[j] ? v : 0)));
      expect(kept.filter(Boolean).length).toBe(count);
      expect(p.bias === null).toBe(o.bias === null);
    }
    // The coarse values do tie across the cut (so the position rule was exercised).
    const c1 = graph.nodes.find((n) => n.name === "c1")!;
    if (!("kernel" in c1)) throw new Error("not prunable");
    const sorted = [...c1.kernel, ...c1.bias!].map(Math.abs).sort((a, b) => b - a);
    expect(sorted[16]).toBe(sorted[17]);
    // Nothing passed in was modified.
    expect(JSON.stringify(graph.nodes.map((n) => ("kernel" in n ? [Array.from(n.kernel), n.bias && Array.from(n.bias)] : n.name)))).toBe(before);
  });

  it("leaves nodes not named as they are, and counts 0 and all", () => {
    const graph = smallCnn();
    const pruned = magnitudePruneGraph(graph, { c1: 0, out: 10 });
    const node = (g: ModelGraph, name: string) => g.nodes.find((n) => n.name === name)!;
    expect(node(pruned, "d1")).toBe(node(graph, "d1"));
    const c1 = node(pruned, "c1"), out = node(pruned, "out"), outBefore = node(graph, "out");
    if (!("kernel" in c1) || !("kernel" in out) || !("kernel" in outBefore)) throw new Error("not prunable");
    expect([...c1.kernel, ...c1.bias!].every((v) => v === 0)).toBe(true);
    expect(Array.from(out.kernel)).toEqual(Array.from(outBefore.kernel));
    expect(out.kernel).not.toBe(outBefore.kernel);
  });

  it("refuses unknown or non-prunable nodes and counts out of range, by name", () => {
    const graph = smallCnn();
    expect(() => magnitudePruneGraph(graph, { f: 1 })).toThrow(ValidationError);
    expect(() => magnitudePruneGraph(graph, { nope: 1 })).toThrow(/keep\.nope/);
    expect(() => magnitudePruneGraph(graph, { d1: 193 })).toThrow(/keep\.d1.*\[0, 192\]/);
    expect(() => magnitudePruneGraph(graph, { out: 1.5 })).toThrow(/keep\.out/);
  });
});
