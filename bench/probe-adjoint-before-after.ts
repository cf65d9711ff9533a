// Probe (session 6): CPU per iteration of conv1's threaded ADMM (2 threads), the threaded build
// before the shared transposition of B (a copy passed by --before) against the current one, taking
// turns in one process. Run: tsx bench/probe-adjoint-before-after.ts --before /tmp/x.wasm [--samples 2000]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { foldBatchNorms, forwardGraph, type PrunableNode } from "../bindings/index.ts";
import { createThreadedEngine } from "../bindings/wasm/threaded-engine.ts";
import { compileThreadedModule } from "../bindings/wasm/threaded-loader.ts";
import { workerLauncher } from "../bindings/workers/layer-threads.ts";
import { convAxis, convBiasUnit, type ConvGeometry } from "../bindings/solver/conv-geometry.ts";
import type { AdmmEngine, LayerProblem } from "../bindings/solver/engine.ts";
import { loadCnnContext } from "../examples/cnn-report.ts";
import { PIXELS } from "../examples/mnist-data.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const P = Number(arg("--samples", "2000"));
const before = arg("--before", "");
const TURNS = 8, PER_TURN = 3;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const ctx = loadCnnContext();
const { graph } = foldBatchNorms(ctx.graph);
const node = graph.nodes.find((n) => n.name === "conv1") as PrunableNode & { op: "conv2d" };
const inName = node.inputs[0];
const f = forwardGraph(graph, [ctx.data.trainX.subarray(0, P * PIXELS)], P, { outputsOf: [inName], preActivationOf: ["conv1"] });
const input = f.values.get(inName)!;
const output = f.preActivations.get("conv1")!.map((v) => Math.max(v, 0));
const inShape = graph.nodes.find((n) => n.name === inName)!.shape;
const ra = convAxis(inShape[0], node.kernelSize[0], node.strides[0], node.dilation[0], node.padding);
const ca = convAxis(inShape[1], node.kernelSize[1], node.strides[1], node.dilation[1], node.padding);
const g: ConvGeometry = {
  samples: P, inH: inShape[0], inW: inShape[1], inC: inShape[2], outH: ra.out, outW: ca.out, outC: node.filters,
  kh: node.kernelSize[0], kw: node.kernelSize[1], sh: node.strides[0], sw: node.strides[1], dh: node.dilation[0], dw: node.dilation[1],
  padTop: ra.padBefore, padLeft: ca.padBefore,
};
const problem: LayerProblem = {
  P: P * g.outH * g.outW, N: g.kh * g.kw * g.inC, M: g.outC, input, output, upperBound: undefined, linear: false,
  activeThreshold: 0, sparse: false, fitBias: true, biasUnit: convBiasUnit(input, g), designNonzeros: 0, form: "samples",
};
const engines = new Map<string, AdmmEngine>([
  ["before", await createThreadedEngine(await WebAssembly.compile(readFileSync(before)), problem, 2, workerLauncher(), g)],
  ["after", await createThreadedEngine(await compileThreadedModule(), problem, 2, workerLauncher(), g)],
]);
for (const e of engines.values()) { e.start(0.05, 1, 1.6); e.iterate(1, false); }
const times = new Map<string, { wall: number; cpu: number }[]>([["before", []], ["after", []]]);
const load0 = loadavg();
for (let k = 0; k < TURNS; k++) {
  for (const [name, e] of k % 2 === 0 ? [...engines] : [...engines].reverse()) {
    const c0 = process.cpuUsage(), w0 = performance.now();
    e.iterate(PER_TURN, false);
    times.get(name)!.push({ wall: (performance.now() - w0) / PER_TURN, cpu: cpuMs(process.cpuUsage(c0)) / PER_TURN });
  }
}
// Both ran the same iterations from the same start: the W2 bits must agree.
const [wBefore, wAfter] = [...engines.values()].map((e) => new Uint32Array(e.readW2().slice().buffer));
const sameBits = wBefore.length === wAfter.length && wBefore.every((v, i) => v === wAfter[i]);
for (const e of engines.values()) await e.dispose();
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`conv1, P = ${P} digits (${problem.P} rows), 2 threads, ${TURNS} turns of ${PER_TURN}; load ${load0.map((v) => v.toFixed(2)).join(" ")} → ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
console.table([...times].map(([name, t]) => ({ build: name, "CPU ms/iter (median)": +median(t.map((x) => x.cpu)).toFixed(1), "wall ms/iter (median)": +median(t.map((x) => x.wall)).toFixed(1) })));
console.log(`same W2 bits before/after: ${sameBits}`);
