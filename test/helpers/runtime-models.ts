// What the sparse runtime's tests share: seeded sparse values and the bundled models, pruned.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isPrunable, magnitudePruneGraph, parseLayersModelGraph, type ModelGraph } from "../../bindings/index.ts";
import { gaussian, rng } from "./problems.ts";

/** Gaussian values, each kept with probability `density` (0: all zero, 1: fully dense). */
export function sparseValues(n: number, density: number, seed: number): Float32Array {
  const g = gaussian(seed), u = rng(seed + 1);
  return new Float32Array(n).map(() => (u() < density ? g() : 0));
}

/** The model.json and weights.bin of a bundled model (models/<name>). */
export function bundledFiles(name: string): { modelJson: unknown; weightData: ArrayBuffer } {
  const dir = join(import.meta.dirname, "..", "..", "models", name);
  const weights = readFileSync(join(dir, "weights.bin"));
  return {
    modelJson: JSON.parse(readFileSync(join(dir, "model.json"), "utf8")),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
}

export function bundled(name: string): ModelGraph {
  const { modelJson, weightData } = bundledFiles(name);
  return parseLayersModelGraph(modelJson, weightData);
}

/** Each Dense/conv node keeps `fraction` of its parameters (magnitude). */
export function pruned(graph: ModelGraph, fraction: number): ModelGraph {
  const keep: Record<string, number> = {};
  for (const n of graph.nodes) if (isPrunable(n)) keep[n.name] = Math.round(fraction * (n.kernel.length + (n.bias?.length ?? 0)));
  return magnitudePruneGraph(graph, keep);
}
