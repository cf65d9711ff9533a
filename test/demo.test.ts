// The main job (npm run demo) runs end to end in its quick mode (--quick: 150 calibration digits,
// every 4th test digit) and reports honestly: accuracies and kept counts recomputed here.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forwardGraph, parseLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { loadMnist } from "../examples/mnist-data.ts";

const root = new URL("..", import.meta.url).pathname;
const cells = (line: string) => line.split("│").map((c) => c.trim().replace(/^'|'$/g, ""));
let out = "";
let outDir = "";

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "net-trim-demo-"));
  out = execFileSync(process.execPath, ["--import", "tsx", "examples/prune-mnist.ts", "--quick", "--out", outDir], {
    cwd: root, encoding: "utf8", timeout: 600_000, // the reweighted row costs 3–4× a plain one
  });
}, 620_000);
afterAll(() => { if (outDir) rmSync(outDir, { recursive: true, force: true }); });

function readGraph(dir: string): ModelGraph {
  const bytes = readFileSync(join(dir, "weights.bin"));
  return parseLayersModelGraph(JSON.parse(readFileSync(join(dir, "model.json"), "utf8")), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The digits --quick evaluates on, picked here: every 4th of the 2000 held-out digits (50 of each). */
function quickTestSet(): { x: Float32Array; labels: Uint8Array } {
  const { testX, testLabels } = loadMnist();
  const picked = [...testLabels.keys()].filter((i) => i % 4 === 0);
  const x = new Float32Array(picked.length * 784);
  picked.forEach((i, r) => x.set(testX.subarray(i * 784, (i + 1) * 784), r * 784));
  return { x, labels: Uint8Array.from(picked, (i) => testLabels[i]) };
}

/** Test accuracy in percent: the graph's logits on the digits, argmax counted here. */
function accuracyOf(graph: ModelGraph, { x, labels }: { x: Float32Array; labels: Uint8Array }): number {
  const logits = forwardGraph(graph, [x], labels.length).outputs[0];
  let right = 0;
  for (let p = 0; p < labels.length; p++) {
    const r = Array.from(logits.subarray(10 * p, 10 * p + 10));
    if (r.indexOf(Math.max(...r)) === labels[p]) right++;
  }
  return (100 * right) / labels.length;
}

/** Nonzeros of kernel + bias per weighted node, counted here on the file's weights. */
function countNonzeros(graph: ModelGraph): { name: string; nonzero: number; total: number }[] {
  return graph.nodes.flatMap((n) => ("kernel" in n ? [{
    name: n.name,
    nonzero: [...n.kernel, ...(n.bias ?? [])].filter((v) => v !== 0).length,
    total: n.kernel.length + (n.bias?.length ?? 0),
  }] : []));
}

describe("the main job", () => {
  it("prunes the bundled MLP in both modes and prints the comparison", () => {
    expect(out).toContain("test set: 500 held-out digits (every 4th: --quick)");
    expect(out).toContain(`accuracy before pruning ${accuracyOf(readGraph(join(root, "models/mnist-mlp")), quickTestSet()).toFixed(2)}%`);
    expect(out).toMatch(/Net-Trim parallel, gain 0\.05, reweighted/);
    expect(out).toMatch(/Net-Trim parallel, gain 0\.05, plain l1/);
    expect(out).toMatch(/Net-Trim cascade, gain 0\.1, reweighted/);
    expect(out).toMatch(/magnitude, same nnz as parallel/);
    // Every guarantee line (parallel reweighted and plain, cascade reweighted) is computed and holds.
    expect(out.match(/: holds$/gm)?.length).toBe(3);
    expect(out).not.toContain("VIOLATED");
    // Checked on the printed numbers, not on the library's verdict: in parallel mode every solved
    // layer's relative error is within its budget (gain 0.05), reweighted or not.
    const perLayer = (label: string, next: string) => out.slice(out.indexOf(`${label}: per layer`), out.indexOf(next));
    const reweighted = perLayer("parallel, gain 0.05, reweighted", "parallel, gain 0.05, plain l1: per layer");
    const plain = perLayer("parallel, gain 0.05, plain l1", "cascade, gain 0.1, reweighted: per layer");
    const solvedRows = (table: string) => table.split("\n").map(cells).filter((c) => c[4] === "solved");
    for (const table of [reweighted, plain]) {
      const rows = solvedRows(table);
      expect(rows.length).toBe(3);
      for (const c of rows) expect(Number(c[8])).toBeLessThanOrEqual(0.05 * 1.001);
    }
    // Reweighting keeps no more weights than plain l1 at the same budget in any layer,
    // and fewer in all (nnz after, read from both tables).
    const nnz = (table: string) => solvedRows(table).map((c) => Number(c[6]));
    nnz(reweighted).forEach((n, i) => expect(n).toBeLessThanOrEqual(nnz(plain)[i]));
    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    expect(sum(nnz(reweighted))).toBeLessThan(sum(nnz(plain)));
    // At equal nonzeros Net-Trim's logit error is below magnitude pruning's (measured on the test digits).
    const summary = out.slice(out.indexOf("Whole network"), out.indexOf("net-trim: pruning models/mnist-cnn")).split("\n").map(cells);
    const logitError = (label: string) => Number(summary.find((c) => (c[2] ?? "") === label)?.[7]);
    for (const label of ["parallel, gain 0.05, reweighted", "parallel, gain 0.05, plain l1", "cascade, gain 0.1, reweighted"]) {
      expect(logitError(`Net-Trim ${label}`)).toBeLessThan(logitError(`magnitude, same nnz as ${label}`));
    }
    // Every MLP row is followed by SparseGPT, Wanda and magnitude at its per-layer nonzeros.
    const netTrimRows = summary.filter((c) => /^Net-Trim /.test(c[2] ?? ""));
    expect(netTrimRows.length).toBe(3);
    for (const row of netTrimRows) {
      const label = row[2].slice("Net-Trim ".length);
      for (const baseline of ["SparseGPT", "Wanda", "magnitude"]) {
        expect(summary.find((c) => c[2] === `${baseline}, same nnz as ${label}`)?.[3]).toBe(row[3]);
      }
    }
  });

  it("prunes the bundled CNN in both modes: kept counts and accuracy recomputed from the written models", () => {
    const test = quickTestSet();
    expect(out).toContain(`accuracy before pruning ${accuracyOf(readGraph(join(root, "models/mnist-cnn")), test).toFixed(2)}%`);
    const original = countNonzeros(readGraph(join(root, "models/mnist-cnn")));
    const parameters = original.reduce((s, n) => s + n.total, 0);
    const summary = out.slice(out.indexOf("Whole CNN")).split("\n").map(cells);
    for (const [mode, gain] of [["parallel", "0.05"], ["cascade", "0.2"]]) {
      const graph = readGraph(join(outDir, `cnn-${mode}`));
      const counts = countNonzeros(graph);
      expect(counts.map((c) => c.name)).toEqual(["conv1", "conv2", "fc1", "logits"]);
      const row = summary.find((c) => c[2] === `Net-Trim ${mode}, gain ${gain}, reweighted`)!;
      const magnitude = summary.find((c) => c[2] === `magnitude, same nnz as ${mode}, gain ${gain}, reweighted`)!;
      expect(row[3]).toBe(counts.map((c) => c.nonzero).join(" / "));
      expect(magnitude[3]).toBe(row[3]);
      const kept = (100 * counts.reduce((s, c) => s + c.nonzero, 0)) / parameters;
      expect(Math.abs(Number(row[4]) - kept)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(kept).toBeLessThan(100);
      // The per-layer table says the same counts.
      const layers = out.slice(out.indexOf(`CNN ${mode}, gain ${gain}, reweighted: per layer`)).split("\n").map(cells).filter((c) => c[5] === "solved").slice(0, 4);
      expect(layers.map((c) => [c[2], Number(c[7])])).toEqual(counts.map((c) => [c.name, c.nonzero]));
      // Test accuracy: the written model's logits on the held-out digits, argmax counted here.
      expect(Number(row[5])).toBeCloseTo(accuracyOf(graph, test), 2);
      // At equal nonzeros Net-Trim's logit error is below magnitude pruning's.
      expect(Number(row[7])).toBeLessThan(Number(magnitude[7]));
    }
  });
});
