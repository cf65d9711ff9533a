// What an ACCEPTED input must give, checked independently of the readers: a Dense network whose
// shapes chain, whose weight arrays have the lengths their shapes say and hold finite values, and
// whose forward pass runs to finite outputs (unless the weights are so large that float32 overflow
// is the honest answer, bounded below); a model graph likewise; samples and masks of the right sizes.
import { forward, forwardGraph, type DenseNetwork, type LayerMask, type ModelGraph, type SampleMatrix } from "../../bindings/index.ts";

/** Problems found (empty: consistent). */
export type Findings = string[];

function allFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Far below float32's 3.4e38: an output bound under this must come out finite. */
const SAFE = 1e36;

export function denseNetworkFindings(net: DenseNetwork): Findings {
  const out: Findings = [];
  if (!Array.isArray(net.layers) || net.layers.length === 0) return ["no layers"];
  if (net.inputSize !== net.layers[0].inputs) out.push(`inputSize ${net.inputSize} ≠ first layer's inputs ${net.layers[0].inputs}`);
  // A bound on |activations| after each layer for inputs of magnitude 0.5: s·inputs·max|W| + max|b|.
  let bound = 0.5;
  net.layers.forEach((l, i) => {
    const at = `layer ${i} "${l.name}"`;
    if (!(Number.isSafeInteger(l.inputs) && l.inputs >= 1 && Number.isSafeInteger(l.units) && l.units >= 1)) out.push(`${at}: inputs ${l.inputs}, units ${l.units}`);
    if (i > 0 && l.inputs !== net.layers[i - 1].units) out.push(`${at}: inputs ${l.inputs} ≠ previous units ${net.layers[i - 1].units}`);
    if (!(l.kernel instanceof Float32Array) || l.kernel.length !== l.inputs * l.units) out.push(`${at}: kernel length ${l.kernel?.length} ≠ ${l.inputs}·${l.units}`);
    if (!(l.bias instanceof Float32Array) || l.bias.length !== l.units) out.push(`${at}: bias length ${l.bias?.length} ≠ ${l.units}`);
    if (!l.useBias && l.bias?.some((b) => b !== 0)) out.push(`${at}: use_bias false with a nonzero bias`);
    if (l.activation !== "relu" && l.activation !== "linear") out.push(`${at}: activation ${String(l.activation)}`);
    if (l.kernel && allFinite(l.kernel) >= 0) out.push(`${at}: kernel[${allFinite(l.kernel)}] not finite`);
    if (l.bias && allFinite(l.bias) >= 0) out.push(`${at}: bias[${allFinite(l.bias)}] not finite`);
    bound = bound * l.inputs * maxAbs(l.kernel ?? []) + maxAbs(l.bias ?? []);
  });
  if (out.length > 0) return out;
  const rows = 2;
  const x = new Float32Array(rows * net.inputSize).fill(0.5);
  const signals = forward(net, x, rows);
  const y = signals[signals.length - 1];
  if (y.length !== rows * net.layers[net.layers.length - 1].units) out.push(`forward output length ${y.length}`);
  if (bound < SAFE && allFinite(y) >= 0) out.push(`forward output[${allFinite(y)}] = ${y[allFinite(y)]} with weights bounding it by ${bound}`);
  return out;
}

const WEIGHT_FIELDS = ["kernel", "bias", "gamma", "beta", "mean", "variance"] as const;

/** `realWeights`: the weights are the model's own (not byte-edited), so a non-finite output means a setting was misread. */
export function graphFindings(graph: ModelGraph, realWeights: boolean): Findings {
  const out: Findings = [];
  for (const n of graph.nodes) {
    const fields = n as unknown as Record<string, unknown>;
    for (const f of WEIGHT_FIELDS) {
      const v = fields[f];
      if (v instanceof Float32Array && allFinite(v) >= 0) out.push(`node "${n.name}" ${f}[${allFinite(v)}] not finite`);
    }
    if (!n.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) out.push(`node "${n.name}" shape [${n.shape}]`);
    // WebAssembly's 4 GiB: 2^30 float32 values per sample at most.
    if (n.shape.reduce((p, d) => p * d, 1) > 2 ** 30) out.push(`node "${n.name}" shape [${n.shape}] over 2^30 values`);
  }
  if (out.length > 0) return out;
  const size = (name: string) => graph.nodes.find((n) => n.name === name)!.shape.reduce((p, d) => p * d, 1);
  // Too large to run in a fuzz case (a mutated size); the reader's own bounds are what is tested then.
  if (graph.nodes.some((n) => n.shape.reduce((p, d) => p * d, 1) > 1e6)) return out;
  const inputs = graph.inputs.map((name) => new Float32Array(2 * size(name)).fill(0.5));
  const outputs = forwardGraph(graph, inputs, 2).outputs;
  if (outputs.length !== graph.outputs.length) out.push(`${outputs.length} outputs for ${graph.outputs.length}`);
  outputs.forEach((o, i) => {
    if (o.length !== 2 * size(graph.outputs[i])) out.push(`output ${i} length ${o.length}`);
    if (realWeights && allFinite(o) >= 0) out.push(`output ${i}[${allFinite(o)}] not finite with the model's own weights`);
  });
  return out;
}

export function samplesFindings(s: SampleMatrix): Findings {
  const out: Findings = [];
  if (!(s.data instanceof Float32Array) || s.data.length !== s.rows * s.cols) out.push(`data length ${s.data?.length} ≠ ${s.rows}·${s.cols}`);
  if (allFinite(s.data) >= 0) out.push(`data[${allFinite(s.data)}] not finite`);
  if (s.sampleShape && s.sampleShape.reduce((a, b) => a * b, 1) !== s.cols) out.push(`sampleShape [${s.sampleShape}] ≠ ${s.cols} columns`);
  return out;
}

export function masksFindings(masks: LayerMask[]): Findings {
  const out: Findings = [];
  masks.forEach((m, i) => {
    if (typeof m.name !== "string") out.push(`mask ${i} name`);
    if (m.mask.length !== m.inputs * m.units || m.biasMask.length !== m.units) out.push(`mask ${i}: ${m.mask.length} and ${m.biasMask.length} for ${m.inputs}·${m.units}`);
    if (m.mask.some((v) => v > 1) || m.biasMask.some((v) => v > 1)) out.push(`mask ${i}: entries other than 0/1`);
  });
  return out;
}

/** First index where two float arrays differ bit for bit (NaN payloads and −0 included), or −1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
