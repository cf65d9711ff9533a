// Bytes a browser downloads for the bundled MLP and CNN, unpruned and pruned to 20%, 10% and 5%
// of every layer's parameters (kernel and bias together) by magnitude — for the MLP followed by
// the least-squares refit on the support (so that the pruned MLPs still classify) — and the CNN
// pruned by Net-Trim (pruneGraph, cascade, gain 0.2 on 1,000 digits): the TF.js files (model.json +
// weights.bin) raw, gzip'd and brotli'd, ONNX with dense and with sparse initializers, and
// net-trim's compact file (.ntz) in float32 (lossless: checked bit for bit here) and float16 (test
// accuracy on the 2,000 held-out digits next to float32's, and the relative change of the logits),
// and TF.js files with TF.js's own quantized storage (uint8, float16: lossy; accuracy likewise).
// gzip -9 and brotli quality 11, each file compressed on its own as a server's static
// pre-compression would. Bytes per kept weight
// count every file of the model. Run: npm run bench:size. Prints tables and writes
// bench/results/size-<date>.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import {
  decodeCompact, encodeCompact, forwardGraph, isPrunable, magnitudePrune, magnitudePruneGraph, parseLayersModel, parseLayersModelGraph, parseOnnxModel,
  pruneGraph, tensor, writeLayersModelGraph, writeOnnxModel, type ModelGraph,
} from "../bindings/index.ts";
import { refitNetwork } from "../bindings/network/refit.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { onnxOfGraph } from "./onnx-of-graph.ts";

const gzip = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
const brotli = (b: Uint8Array) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }).length;
const sum = (files: Uint8Array[], f: (b: Uint8Array) => number) => files.reduce((s, b) => s + f(b), 0);
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const weights = (g: ModelGraph) => g.nodes.flatMap((n) => Object.entries(n).filter(([, v]) => v instanceof Float32Array).map(([k, v]) => [`${n.name}.${k}`, v as Float32Array] as const));

function sameBits(a: ModelGraph, b: ModelGraph): boolean {
  const wb = new Map(weights(b));
  return weights(a).every(([k, v]) => {
    const w = wb.get(k);
    return w !== undefined && w.length === v.length && bitsOf(v).every((x, i) => x === bitsOf(w)[i]);
  });
}

function nonzeros(g: ModelGraph): number {
  return weights(g).reduce((s, [, v]) => s + v.reduce((c, x) => c + (x !== 0 ? 1 : 0), 0), 0);
}

const mnist = loadMnist();
const TEST = mnist.testLabels.length;
const logitsOf = (g: ModelGraph) => forwardGraph(g, [mnist.testX], TEST).outputs[0];
function accuracy(logits: Float32Array): number {
  let right = 0;
  for (let r = 0; r < TEST; r++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[r * 10 + c] > logits[r * 10 + best]) best = c;
    if (best === mnist.testLabels[r]) right++;
  }
  return right / TEST;
}

function ms(f: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

const rows: Record<string, number | string>[] = [];
for (const name of ["mnist-mlp", "mnist-cnn"]) {
  const dir = new URL(`../models/${name}/`, import.meta.url);
  const modelJsonText = readFileSync(new URL("model.json", dir));
  const weightsBin = readFileSync(new URL("weights.bin", dir));
  const modelJson = JSON.parse(modelJsonText.toString("utf8"));
  const graph = parseLayersModelGraph(modelJson, weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength));
  const original = [new Uint8Array(modelJsonText), new Uint8Array(weightsBin)];
  const onnx = parseOnnxModel(onnxOfGraph(graph));
  const onnxNames = new Map(onnx.graph.nodes.filter(isPrunable).map((n, i) => [graph.nodes.filter(isPrunable)[i].name, n.name]));
  const inOnnx = (g: ModelGraph): ModelGraph => {
    const byName = new Map(g.nodes.filter(isPrunable).map((n) => [onnxNames.get(n.name), n]));
    return { ...onnx.graph, nodes: onnx.graph.nodes.map((n) => (isPrunable(n) && byName.has(n.name) ? { ...n, kernel: byName.get(n.name)!.kernel, bias: byName.get(n.name)!.bias } : n)) };
  };
  if (!sameBits(inOnnx(graph), onnx.graph)) throw new Error(`${name}: the ONNX export does not read back to the TF.js weights`);

  const variants: { label: string; pruned: () => Promise<ModelGraph> }[] = [{ label: "unpruned", pruned: async () => graph }];
  for (const fraction of [0.2, 0.1, 0.05]) {
    const keepOf = (n: { kernel: Float32Array; bias: Float32Array | null }) => Math.round((n.kernel.length + (n.bias?.length ?? 0)) * fraction);
    if (name === "mnist-mlp") {
      variants.push({
        label: `magnitude ${fraction * 100}% + refit`,
        pruned: async () => {
          const network = parseLayersModel(modelJson, weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength));
          const magnitude = magnitudePrune(network, network.layers.map(keepOf));
          const P = 2000;
          const { layers } = refitNetwork(network.layers, magnitude.layers, mnist.trainX.subarray(0, P * 784), P, network.layers.map((l) => l.activation === "relu"));
          const byName = new Map(layers.map((l) => [l.name, l]));
          return { ...graph, nodes: graph.nodes.map((n) => (n.op === "dense" ? { ...n, kernel: byName.get(n.name)!.kernel, bias: byName.get(n.name)!.bias } : n)) };
        },
      });
    } else {
      variants.push({
        label: `magnitude ${fraction * 100}%`,
        pruned: async () => magnitudePruneGraph(graph, Object.fromEntries(graph.nodes.filter(isPrunable).map((n) => [n.name, keepOf(n)]))),
      });
    }
  }
  if (name === "mnist-cnn") {
    variants.push({
      label: "Net-Trim cascade, gain 0.2",
      pruned: async () => (await pruneGraph(graph, tensor(mnist.trainX.subarray(0, 1000 * 784), [1000, 28, 28, 1]), { mode: "cascade", epsilonGain: 0.2 })).graph,
    });
  }

  for (const variant of variants) {
    const pruned = await variant.pruned();
    const kept = nonzeros(pruned);
    const written = writeLayersModelGraph(modelJson, pruned);
    const tfjs = [new TextEncoder().encode(JSON.stringify(written.modelJson)), new Uint8Array(written.weightData)];
    const quantized = Object.fromEntries((["uint8", "float16"] as const).map((q) => {
      const w = writeLayersModelGraph(modelJson, pruned, undefined, { quantize: q });
      return [q, { files: [new TextEncoder().encode(JSON.stringify(w.modelJson)), new Uint8Array(w.weightData)], graph: parseLayersModelGraph(w.modelJson, w.weightData) }];
    }));
    const onnxDense = writeOnnxModel(inOnnx(pruned), onnx.source);
    const onnxSparse = writeOnnxModel(inOnnx(pruned), onnx.source, { sparse: true });
    const ntz = encodeCompact(pruned);
    const ntz16 = encodeCompact(pruned, { values: "float16" });
    if (!sameBits(decodeCompact(ntz), pruned)) throw new Error(`${name} ${variant.label}: the compact file does not decode bit for bit`);
    if (!sameBits(parseOnnxModel(onnxSparse).graph, inOnnx(pruned))) throw new Error(`${name} ${variant.label}: the sparse ONNX file does not read back`);
    const logits32 = logitsOf(pruned), logits16 = logitsOf(decodeCompact(ntz16));
    let diff = 0, norm = 0;
    logits32.forEach((v, i) => { diff += (v - logits16[i]) ** 2; norm += v * v; });
    const bytes: Record<string, number> = {
      "original TF.js": sum(original, (b) => b.length), "original TF.js gzip": sum(original, gzip),
      "TF.js": sum(tfjs, (b) => b.length), "TF.js gzip": sum(tfjs, gzip), "TF.js brotli": sum(tfjs, brotli),
      "TF.js uint8 gzip": sum(quantized.uint8.files, gzip), "TF.js uint8 brotli": sum(quantized.uint8.files, brotli),
      "TF.js float16 gzip": sum(quantized.float16.files, gzip), "TF.js float16 brotli": sum(quantized.float16.files, brotli),
      "ONNX": onnxDense.length, "ONNX gzip": gzip(onnxDense),
      "ONNX sparse": onnxSparse.length, "ONNX sparse gzip": gzip(onnxSparse), "ONNX sparse brotli": brotli(onnxSparse),
      "ntz": ntz.length, "ntz gzip": gzip(ntz), "ntz brotli": brotli(ntz), "ntz float16": ntz16.length,
    };
    rows.push({
      model: name, pruning: variant.label, "kept weights": kept, "kept %": +(100 * kept / nonzeros(graph)).toFixed(1),
      ...bytes,
      ...Object.fromEntries(Object.entries(bytes).map(([k, v]) => [`B/kept ${k}`, +(v / kept).toFixed(3)])),
      "test accuracy float32": accuracy(logits32), "test accuracy float16": accuracy(logits16),
      "float16 logit change": +Math.sqrt(diff / norm).toExponential(2),
      "test accuracy TF.js uint8": accuracy(logitsOf(quantized.uint8.graph)), "test accuracy TF.js float16": accuracy(logitsOf(quantized.float16.graph)),
      "encode ms": +ms(() => encodeCompact(pruned)).toFixed(1), "decode ms": +ms(() => decodeCompact(ntz)).toFixed(1),
    });
    process.stderr.write(`${name} ${variant.label}: done\n`);
  }
}

const pick = (keys: string[]) => rows.map((r) => Object.fromEntries(["model", "pruning", ...keys].map((k) => [k, r[k]])));
console.log("Bytes downloaded (every file of the model; gzip -9, brotli q11):");
console.table(pick(["kept weights", "kept %", "original TF.js", "TF.js", "TF.js gzip", "TF.js brotli", "ONNX sparse", "ONNX sparse gzip", "ntz", "ntz gzip", "ntz float16"]));
console.log("Bytes per kept weight:");
console.table(pick(["B/kept TF.js gzip", "B/kept TF.js brotli", "B/kept ONNX sparse", "B/kept ONNX sparse gzip", "B/kept ntz", "B/kept ntz brotli", "B/kept ntz float16"]));
console.log("float16 values: test accuracy (2,000 held-out digits), and the compact file's speed:");
console.table(pick(["test accuracy float32", "test accuracy float16", "float16 logit change", "encode ms", "decode ms"]));
console.log("TF.js quantized weights (writeLayersModelGraph's quantize option; lossy): bytes per kept weight and test accuracy:");
console.table(pick(["B/kept TF.js uint8 gzip", "B/kept TF.js uint8 brotli", "B/kept TF.js float16 gzip", "B/kept TF.js float16 brotli", "test accuracy TF.js uint8", "test accuracy TF.js float16"]));

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(`./results/size-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({
  bench: "size", date: new Date().toISOString(), node: process.version,
  pruning: "magnitude: per prunable node, the given fraction of its parameters (kernel and bias together), largest |w|; MLP then refitNetwork on 2,000 training digits; CNN also pruneGraph cascade gain 0.2 on 1,000 training digits",
  compression: "node:zlib gzip level 9, brotli quality 11; each file on its own",
  rows,
}, null, 2) + "\n");
console.log(`wrote ${file.pathname}`);
