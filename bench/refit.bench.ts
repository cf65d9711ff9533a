// The refit on the support, timed (npm run bench:refit): refitNetwork on the bundled MNIST MLP
// magnitude-pruned to 10% and 5% of every layer (P = 8000 training digits), and refitConvNode on
// conv1 and conv2 of the bundled CNN magnitude-pruned to 30% (their input and target from the
// unpruned CNN on P = 2000 digits), each timed with tinybench. With `--against <dir>` (a folder
// holding an earlier refit.ts and conv-refit.ts, e.g. main's, their imports made absolute) the
// same refits by that code run in the same process, for ratios within one run: the MLP's weights
// must be the same bits; each conv's relative output error is printed for both. Writes
// bench/results/refit-<suffix>-<date>.json (`--suffix`, default "s8"; an existing file is never
// overwritten).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Bench } from "tinybench";
import { forwardGraph, magnitudePrune, magnitudePruneGraph, parseLayersModel, parseLayersModelGraph } from "../bindings/index.ts";
import { conv2dForward } from "../bindings/network/graph/ops-conv.ts";
import type { Conv2DNode } from "../bindings/network/graph/types.ts";
import { refitConvNode } from "../bindings/network/conv-refit.ts";
import { refitNetwork } from "../bindings/network/refit.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const against = option("--against");
const suffix = option("--suffix") ?? "s8";
const RUNS = 3;

type Refits = { refitNetwork: typeof refitNetwork; refitConvNode: typeof refitConvNode };
const versions: [string, Refits][] = [["now", { refitNetwork, refitConvNode }]];
if (against) {
  const dir = pathToFileURL(resolve(against) + "/").href;
  const dense = await import(`${dir}refit.ts`), conv = await import(`${dir}conv-refit.ts`);
  versions.unshift(["before", { refitNetwork: dense.refitNetwork, refitConvNode: conv.refitConvNode }]);
}

const mnist = loadMnist();
const read = (name: string) => {
  const dir = new URL(`../models/${name}/`, import.meta.url);
  const json = JSON.parse(readFileSync(new URL("model.json", dir), "utf8"));
  const bin = readFileSync(new URL("weights.bin", dir));
  return { json, weights: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) };
};

/** Mean wall ms of RUNS calls of each version's `f` (tinybench, no warm-up: each call takes seconds), each version's last result. */
async function timeVersions<T>(label: string, f: (r: Refits) => T): Promise<{ ms: Record<string, number>; results: Record<string, T> }> {
  const bench = new Bench({ iterations: RUNS, time: 0, warmupIterations: 0, warmupTime: 0 });
  const results: Record<string, T> = {};
  for (const [name, r] of versions) bench.add(name, () => { results[name] = f(r); });
  await bench.run();
  const ms = Object.fromEntries(bench.tasks.map((t) => [t.name, (t.result as unknown as { latency: { mean: number } }).latency.mean]));
  console.log(`${label}: ${Object.entries(ms).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")} (load ${loadavg()[0].toFixed(2)})`);
  return { ms, results };
}

const rows: Record<string, unknown>[] = [];
const load0 = loadavg();

// The MLP: refitNetwork as pruneNetwork({ refit: true }) calls it.
{
  const { json, weights } = read("mnist-mlp");
  const network = parseLayersModel(json, weights);
  const P = 8000, x = mnist.trainX.subarray(0, P * PIXELS);
  const relu = network.layers.map((l, i) => i < network.layers.length - 1 && l.activation === "relu");
  for (const fraction of [0.1, 0.05]) {
    const pruned = magnitudePrune(network, network.layers.map((l) => Math.round((l.kernel.length + l.bias.length) * fraction)));
    const { ms, results } = await timeVersions(`MLP ${fraction * 100}%`, (r) => r.refitNetwork(network.layers, pruned.layers, x, P, relu));
    const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
    const same = !against || results.now.layers.every((l, i) => [l.kernel, l.bias].every((w, j) => {
      const b = bits([results.before.layers[i].kernel, results.before.layers[i].bias][j]);
      return bits(w).every((v, k) => v === b[k]);
    }));
    if (!same) throw new Error(`MLP ${fraction * 100}%: the refitted weights differ from --against's`);
    rows.push({
      model: "mnist-mlp", node: "all layers", kept: `${fraction * 100}%`, P, ...Object.fromEntries(Object.entries(ms).map(([k, v]) => [`${k} ms`, +v.toFixed(1)])),
      ...(against ? { "now / before": +(ms.now / ms.before).toFixed(3), "same bits": same } : {}),
      error: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, +r.reports[r.reports.length - 1].relativeError.toPrecision(6)])),
    });
  }
}

// The CNN's conv nodes: the unpruned graph's input and pre-activation of each node, the node magnitude-pruned.
{
  const { json, weights } = read("mnist-cnn");
  const graph = parseLayersModelGraph(json, weights);
  const P = 2000, x = mnist.trainX.subarray(0, P * PIXELS);
  for (const name of ["conv1", "conv2"]) {
    const node = graph.nodes.find((n) => n.name === name) as Conv2DNode;
    const input = node.inputs[0], inShape = graph.nodes.find((n) => n.name === input)!.shape;
    const signals = forwardGraph(graph, [x], P, { outputsOf: [input], preActivationOf: [name] });
    const xIn = signals.values.get(input)!, z = signals.preActivations.get(name)!;
    const keep = Math.round((node.kernel.length + node.filters) * 0.3);
    const pruned = magnitudePruneGraph(graph, { [name]: keep }).nodes.find((n) => n.name === name) as Conv2DNode;
    const { ms, results } = await timeVersions(`CNN ${name} 30%`, (r) => r.refitConvNode(pruned, xIn, P, inShape, z, true));
    /** ‖relu(conv) − relu(z)‖ / ‖relu(z)‖ on the calibration digits (the refit report's measure). */
    const error = (w: { kernel: Float32Array; bias: Float32Array | null }) => {
      const y = conv2dForward({ ...pruned, ...w }, xIn, P, inShape);
      let sq = 0, norm = 0;
      for (let i = 0; i < y.length; i++) { const t = Math.max(z[i], 0); sq += (Math.max(y[i], 0) - t) ** 2; norm += t * t; }
      return Math.sqrt(sq / norm);
    };
    rows.push({
      model: "mnist-cnn", node: name, kept: "30%", P, ...Object.fromEntries(Object.entries(ms).map(([k, v]) => [`${k} ms`, +v.toFixed(1)])),
      ...(against ? { "now / before": +(ms.now / ms.before).toFixed(3) } : {}),
      error: { unrefitted: +error(pruned).toPrecision(6), ...Object.fromEntries(Object.entries(results).map(([k, w]) => [k, +error(w).toPrecision(6)])) },
    });
  }
}

console.table(rows.map((r) => ({ ...r, error: JSON.stringify(r.error) })));
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(`./results/refit-${suffix}-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
if (existsSync(file)) throw new Error(`${file.pathname} exists: pass another --suffix`);
writeFileSync(file, JSON.stringify({
  bench: "refit", date: new Date().toISOString(), node: process.version, runs: RUNS, against: against ?? null,
  loadBefore: load0, loadAfter: loadavg(), rows,
}, null, 2) + "\n");
console.log(`wrote ${file.pathname}`);
