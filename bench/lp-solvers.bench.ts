// Generic solvers a JS user could reach for, on the ε = 0 program of a small layer (an LP):
// HiGHS compiled to WebAssembly (npm highs), GLPK (glpk.js) and javascript-lp-solver, against
// net-trim, in one run. Run: npm run bench:lp
//   min ‖W̄‖₁ s.t. (X̄·W̄)_Ω = Y_Ω, (X̄·W̄)_{Ω^c} ≤ 0,  X̄ = [X | u·1],  one LP per neuron in split
//   variables w = w⁺ − w⁻ ≥ 0. Each time is the whole layer (all neurons), median of tinybench runs.
// Prints a table and writes bench/results/lp-solvers-<date>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as highsPackage from "highs";
import GLPK from "glpk.js/node";
import * as lpSolverPackage from "javascript-lp-solver";
import { Bench } from "tinybench";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { biasUnitOf } from "../bindings/solver/bias-unit.ts";
import { frobenius, randomLayer } from "../test/helpers/problems.ts";

const P = 80, N = 60, M = 10, NB = N + 1;
const layer = randomLayer(41, P, N, M, { density: 0.2 });
const u = biasUnitOf(layer.input, P, N);
const xbar = (p: number, j: number) => (j < N ? layer.input[p * N + j] : u);
const active = (p: number, m: number) => layer.output[p * M + m] > 0;

/** Objective ‖W‖₁ + ‖b‖₁/u of weights and bias in the layer's own units. */
const objectiveOf = (w: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(w).reduce((s, v) => s + Math.abs(v), 0) + Array.from(b).reduce((s, v) => s + Math.abs(v), 0) / u;

function cplexLp(m: number): string {
  const terms = (p: number) => Array.from({ length: NB }, (_, j) => `${xbar(p, j) >= 0 ? "+" : "-"} ${Math.abs(xbar(p, j))} wp${j} ${xbar(p, j) >= 0 ? "-" : "+"} ${Math.abs(xbar(p, j))} wm${j}`).join(" ");
  const rows = Array.from({ length: P }, (_, p) => ` c${p}: ${terms(p)} ${active(p, m) ? "=" : "<="} ${active(p, m) ? layer.output[p * M + m] : 0}`);
  const objective = Array.from({ length: NB }, (_, j) => `wp${j} + wm${j}`).join(" + ");
  return `Minimize\n obj: ${objective}\nSubject To\n${rows.join("\n")}\nEnd`;
}

// Each solver's module is loaded once, outside the timings (net-trim's too: the first solve below).
// highs' types describe a CommonJS default; its ESM build's default export is the loader.
const loadHighs = (highsPackage as unknown as { default: () => Promise<{ solve(lp: string, o: object): { Status: string; ObjectiveValue: number } }> }).default;
const highs = await loadHighs();
const glpk = await GLPK();
// javascript-lp-solver is CommonJS: its solver is module.exports (or its default, by loader).
const lpPackage = lpSolverPackage as unknown as { default?: unknown };
const lpSolver = (lpPackage.default ?? lpPackage) as { Solve(model: object): { feasible: boolean; result: number } };

function solveHighs(): number {
  let total = 0;
  for (let m = 0; m < M; m++) {
    const r = highs.solve(cplexLp(m), { output_flag: false });
    if (r.Status !== "Optimal") throw new Error(`HiGHS: ${r.Status}`);
    total += r.ObjectiveValue;
  }
  return total;
}

function solveGlpk(): number {
  let total = 0;
  for (let m = 0; m < M; m++) {
    const vars = Array.from({ length: NB }, (_, j) => [{ name: `wp${j}`, coef: 1 }, { name: `wm${j}`, coef: 1 }]).flat();
    const r = glpk.solve({
      name: `neuron${m}`,
      objective: { direction: glpk.GLP_MIN, name: "obj", vars },
      subjectTo: Array.from({ length: P }, (_, p) => ({
        name: `c${p}`,
        vars: Array.from({ length: NB }, (_, j) => [{ name: `wp${j}`, coef: xbar(p, j) }, { name: `wm${j}`, coef: -xbar(p, j) }]).flat(),
        bnds: active(p, m) ? { type: glpk.GLP_FX, lb: layer.output[p * M + m], ub: layer.output[p * M + m] } : { type: glpk.GLP_UP, lb: 0, ub: 0 },
      })),
    }, { msglev: glpk.GLP_MSG_OFF });
    if (r.result.status !== glpk.GLP_OPT) throw new Error(`GLPK: status ${r.result.status}`);
    total += r.result.z;
  }
  return total;
}

function solveJsLp(): number {
  let total = 0;
  for (let m = 0; m < M; m++) {
    const variables: Record<string, Record<string, number>> = {};
    for (let j = 0; j < NB; j++) {
      const plus: Record<string, number> = { cost: 1 }, minus: Record<string, number> = { cost: 1 };
      for (let p = 0; p < P; p++) {
        plus[`c${p}`] = xbar(p, j);
        minus[`c${p}`] = -xbar(p, j);
      }
      variables[`wp${j}`] = plus;
      variables[`wm${j}`] = minus;
    }
    const constraints: Record<string, { equal?: number; max?: number }> = {};
    for (let p = 0; p < P; p++) constraints[`c${p}`] = active(p, m) ? { equal: layer.output[p * M + m] } : { max: 0 };
    const r = lpSolver.Solve({ optimize: "cost", opType: "min", constraints, variables });
    if (!r.feasible) throw new Error("javascript-lp-solver: infeasible");
    total += r.result;
  }
  return total;
}

const netTrim = (options: Record<string, number>) => () =>
  pruneLayer(matrix(layer.input, P, N), matrix(layer.output, P, M), { epsilon: 0, ...options });

const optimum = solveHighs();
const results: Record<string, unknown>[] = [];
const bench = new Bench({ iterations: 5, time: 0, warmupIterations: 1 });
const solves = new Map<string, LayerResult>();
const tasks: [string, () => number | Promise<LayerResult>][] = [
  ["HiGHS 1.15 (wasm, dual simplex by default)", solveHighs],
  ["GLPK 5 (glpk.js, wasm)", solveGlpk],
  ["javascript-lp-solver 1.0 (pure JS simplex)", solveJsLp],
  ["net-trim, default tolerances", netTrim({ maxIter: 20000 })],
  ["net-trim, relTol 1e-5, dualRelTol 1e-4", netTrim({ maxIter: 20000, relTol: 1e-5, dualRelTol: 1e-4 })],
  ["net-trim, relTol 1e-6, dualRelTol 1e-5", netTrim({ maxIter: 40000, relTol: 1e-6, dualRelTol: 1e-5 })],
];
const objectives = new Map<string, number>();
for (const [name, fn] of tasks) {
  const value = await fn();
  if (typeof value === "number") objectives.set(name, value);
  else {
    solves.set(name, value);
    objectives.set(name, objectiveOf(value.weights, value.bias));
  }
  bench.add(name, async () => {
    await fn();
  });
}
await bench.run();
for (const task of bench.tasks) {
  const objective = objectives.get(task.name)!;
  const ms = (task.result as unknown as { latency?: { p50?: number } }).latency?.p50 ?? NaN;
  const solve = solves.get(task.name);
  results.push({
    solver: task.name, "median ms": +ms.toFixed(2), objective: +objective.toFixed(6),
    "relative gap to HiGHS": +((objective - optimum) / optimum).toExponential(2),
    // The LP solvers meet the constraints to their tolerance (~1e-9); net-trim's ADMM in f32 to its own.
    "net-trim: status / iterations / fit / leakage": solve
      ? `${solve.status} / ${solve.info.iterations} / ${(solve.info.fitError / frobenius(layer.output)).toExponential(1)}·‖Y‖ / ${solve.info.leakage.toExponential(1)}`
      : "",
  });
}
console.log(`ε = 0 program of a seeded relu layer, P = ${P}, N = ${N} (+ bias), M = ${M}; HiGHS optimum ${optimum.toFixed(6)}`);
console.table(results);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/lp-solvers-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, P, N, M, optimum, results }, null, 2));
console.log(`wrote ${file}`);
