// Where P ≪ N̄ (the Woodbury form's layers), how close the default solve stops to the optimum
// (issue 8: ‖W‖₁ within 1% of the certified optimum): seeded random ReLU and linear layers with
// 15–50 samples and 2,000–14,000 inputs, and MNIST layer 1 of the bundled model at P = 20, 100,
// 200; each against a long run of the same solver (relTol 1e-7, --long-iterations, whose
// certified gap is reported). Then the ε = 0 linear LP fixture (15 × 30, relTol 1e-5): iterations
// of the factored and Woodbury forms and of the float64 reference engine. Iterations and ‖W‖₁
// only: no timing, so the load does not move the figures.
// Run: npm run bench:woodbury-stop [-- --long-iterations 4000 --suffix -s8]. Prints tables and
// writes bench/results/woodbury-stop<suffix>-<date>.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { matrix, pruneLayer, pruneLayerReference, type LayerResult } from "../bindings/index.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";
import { frobenius, randomLayer } from "../test/helpers/problems.ts";

const argAt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : undefined; };
const longIterations = Number(argAt("long-iterations") ?? 4000);
const suffix = argAt("suffix") ?? "";
const file = `bench/results/woodbury-stop${suffix}-${new Date().toISOString().slice(0, 10)}.json`;

interface Case { name: string; P: number; N: number; M: number; input: Float32Array; output: Float32Array; linear: boolean }
const cases: Case[] = [];
for (const [seed, P, N, M, zeros, linear] of [
  [3, 20, 14_000, 2, 0.5, false], [3, 20, 4000, 2, 0.5, false], [5, 15, 3000, 2, 0.5, false], [4, 10, 3000, 2, 0.5, false],
  [6, 10, 2000, 1, 0.5, false], [5, 40, 4000, 4, 0.5, false], [7, 50, 6000, 3, 0.3, false], [8, 30, 3000, 3, 0.3, true],
] as const) {
  cases.push({ name: `random ${linear ? "linear" : "relu"} ${P} × ${N} → ${M} (seed ${seed})`, ...randomLayer(seed, P, N, M, { zeroInputs: zeros, linear }), linear });
}
for (const P of [20, 100, 200]) cases.push({ name: `MNIST layer 1, P = ${P}`, ...mnistLayerProblem(P), linear: false });

const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  const X = matrix(c.input, c.P, c.N), Y = matrix(c.output, c.P, c.M);
  const kind = c.linear ? "linear" : "relu";
  const epsilon = 0.05 * frobenius(c.output);
  const r = await pruneLayer(X, Y, { kind, epsilon });
  const long = await pruneLayer(X, Y, { kind, epsilon, relTol: 1e-7, dualRelTol: 1e-6, absTol: 0, maxIter: longIterations });
  rows.push({
    layer: c.name, wUpdate: r.info.wUpdate, status: r.status, iterations: r.info.iterations, "first ρ": +r.info.rhoInitial.toPrecision(3),
    "‖W‖₁ / long run's": +(r.info.l1Norm / long.info.l1Norm).toFixed(4), "long run's certified gap": +long.info.relativeGap.toFixed(4),
    "output error / ε": +(r.info.outputError / epsilon).toFixed(4), load: loadavg()[0].toFixed(1),
  });
  console.log(JSON.stringify(rows[rows.length - 1]));
}
console.log("P ≪ N̄, default options, ε = 0.05‖Y‖: the default solve against a long run");
console.table(rows);

interface Fixture { name: string; P: number; N: number; M: number; input: number[]; output: number[]; optimalL1: number }
const fixture = (JSON.parse(readFileSync("test/fixtures/lp-fixtures.json", "utf8")) as Fixture[]).find((f) => f.name === "linear-15x30x3")!;
const FX = matrix(Float32Array.from(fixture.input), fixture.P, fixture.N), FY = matrix(Float32Array.from(fixture.output), fixture.P, fixture.M);
const lpOptions = { kind: "linear", epsilon: 0, maxIter: 20000, relTol: 1e-5, dualRelTol: 1e-4 } as const;
const lpRow = (engine: string, r: LayerResult) => ({
  engine, status: r.status, iterations: r.info.iterations, "ρ changes": r.info.rhoUpdates,
  "‖W‖₁ / HiGHS optimum": +(r.info.l1Norm / fixture.optimalL1).toFixed(6),
});
const lpRows = [
  lpRow("wasm, factored", await pruneLayer(FX, FY, { ...lpOptions, wUpdate: "factored" })),
  lpRow("wasm, Woodbury", await pruneLayer(FX, FY, { ...lpOptions, wUpdate: "woodbury" })),
  lpRow("float64 reference (factored)", await pruneLayerReference(FX, FY, lpOptions)),
];
console.log("ε = 0, linear LP fixture 15 × 30 → 3, relTol 1e-5, dualRelTol 1e-4, maxIter 20,000");
console.table(lpRows);

mkdirSync("bench/results", { recursive: true });
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, longIterations, rows, lpRows }, null, 2));
console.log(`wrote ${file}`);
