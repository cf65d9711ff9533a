// The Woodbury W-update of Dense layers against the factored one and CG (issue 8, big layers), in
// one run. (1) MNIST layer 1 of the bundled model (784 + bias → 300) with fewer samples than rows:
// factored against Woodbury, to the default tolerance, alternated over rounds. (2) A wide layer
// (25,088 inputs, VGG's first FC layer's input, → 64, ReLU-like inputs 60% zero): its factor
// (25089² × 24 B ≈ 14 GiB) cannot be held, so Woodbury (to the default tolerance) against CG
// (at most --cg-iterations ADMM iterations, default 30: about 20 CG steps each here).
// Run: npm run bench:woodbury [-- --samples 200,500 --rounds 2 --wide-samples 500 --suffix -s7].
// Prints tables and writes bench/results/woodbury-<date><suffix>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Bench } from "tinybench";
import { matrix, pruneLayer, type LayerResult } from "../bindings/index.ts";
import { estimateLayerBytes } from "../bindings/wasm/memory-plan.ts";
import { mnistLayerProblem } from "../examples/layer-data.ts";

const argAt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : undefined; };
const sizes = (argAt("samples") ?? "200,500").split(",").map(Number);
const rounds = Number(argAt("rounds") ?? 2);
const wideP = Number(argAt("wide-samples") ?? 500);
const suffix = argAt("suffix") ?? "";
const cgIterations = Number(argAt("cg-iterations") ?? 30);
const file = `bench/results/woodbury-${new Date().toISOString().slice(0, 10)}${suffix}.json`;
mkdirSync("bench/results", { recursive: true });
/** Written after each part, so that a long run leaves its finished part behind. */
const save = (parts: Record<string, unknown>) => writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...parts }, null, 2));
const load = () => loadavg()[0].toFixed(1);
/** CPU seconds of this process since `from` (one thread: the solve's work, less sensitive to the load than wall time). */
const cpuSeconds = (from: NodeJS.CpuUsage) => { const d = process.cpuUsage(from); return +((d.user + d.system) / 1e6).toFixed(2); };
/** The solve's memory plan (the bytes it lays out in WebAssembly memory), from its input's zeros. */
function planMiB(input: Float32Array, P: number, N: number, M: number, wUpdate: "factored" | "woodbury" | "cg"): number {
  let nonzeros = 0;
  for (const v of input) if (v !== 0) nonzeros++;
  return +(estimateLayerBytes(P, N, M, false, wUpdate, { nonzeros, sparse: nonzeros <= 0.5 * input.length }) / 2 ** 20).toFixed(1);
}

function row(what: string, r: LayerResult, extra: Record<string, unknown>): Record<string, unknown> {
  const i = r.info;
  return {
    layer: what, wUpdate: i.wUpdate, status: r.status, iterations: i.iterations, "setup s": +(i.setupMs / 1000).toFixed(3),
    "ms / iteration": +(i.solveMs / i.iterations).toFixed(2), "total s": +(i.totalMs / 1000).toFixed(2),
    "‖W‖₁": +i.l1Norm.toFixed(4), "output error / ε": +(i.outputError / i.epsilon).toFixed(4), ...extra,
  };
}

const mnistRows: Record<string, unknown>[] = [];
for (const P of sizes) {
  const pr = mnistLayerProblem(P);
  for (let round = 1; round <= rounds; round++) {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false });
    const order = round % 2 === 1 ? ["factored", "woodbury"] as const : ["woodbury", "factored"] as const;
    const loadBefore = load();
    for (const wUpdate of order) {
      bench.add(wUpdate, async () => {
        const cpu = process.cpuUsage();
        const r = await pruneLayer(matrix(pr.input, P, pr.N), matrix(pr.output, P, pr.M), { epsilonGain: 0.05, wUpdate });
        mnistRows.push(row(`MNIST layer 1, P = ${P}`, r, { round, "CPU s": cpuSeconds(cpu), "plan MiB": planMiB(pr.input, P, pr.N, pr.M, wUpdate), load: `${loadBefore} → ${load()}` }));
      });
    }
    await bench.run();
  }
}
console.log("MNIST layer 1 (785 rows), ε = 0.05‖Y‖, one thread, default tolerance: factored against Woodbury");
console.table(mnistRows);
save({ mnistRows });

// The wide layer: seeded ReLU-like inputs, a sparse random ReLU layer's outputs.
function wideLayer(P: number, N: number, M: number): { input: Float32Array; output: Float32Array } {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const input = new Float32Array(P * N).map(() => (u() < 0.6 ? 0 : u()));
  const w = new Float32Array(N * M).map(() => (u() < 0.05 ? u() - 0.5 : 0));
  const output = new Float32Array(P * M);
  for (let p = 0; p < P; p++) {
    for (let n = 0; n < N; n++) {
      const x = input[p * N + n];
      if (x !== 0) for (let m = 0; m < M; m++) output[p * M + m] += x * w[n * M + m];
    }
  }
  return { input, output: output.map((v) => Math.max(v, 0)) };
}
const WIDE_N = 25_088, WIDE_M = 64;
const wide = wideLayer(wideP, WIDE_N, WIDE_M);
const wideRows: Record<string, unknown>[] = [];
const bench = new Bench({ iterations: 1, time: 0, warmup: false });
for (const wUpdate of ["woodbury", "cg"] as const) {
  bench.add(wUpdate, async () => {
    const loadBefore = load();
    const cpu = process.cpuUsage();
    const r = await pruneLayer(matrix(wide.input, wideP, WIDE_N), matrix(wide.output, wideP, WIDE_M), { epsilonGain: 0.05, wUpdate, ...(wUpdate === "cg" ? { maxIter: cgIterations } : {}) });
    wideRows.push(row(`wide ${WIDE_N} → ${WIDE_M}, P = ${wideP}`, r, { "CPU s": cpuSeconds(cpu), "plan MiB": planMiB(wide.input, wideP, WIDE_N, WIDE_M, wUpdate), load: `${loadBefore} → ${load()}` }));
  });
}
await bench.run();
console.log(`A wide layer (${WIDE_N} inputs; its factor cannot be held): Woodbury (default tolerance) against CG (≤ ${cgIterations} iterations)`);
console.table(wideRows);
save({ mnistRows, wideRows, cgIterations });
console.log(`wrote ${file}`);
