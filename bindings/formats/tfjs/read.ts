// TF.js LayersModel (model.json + binary weight files) in and out, for feed-forward Dense networks.
//
// Runtime-neutral: no Node built-ins, so it runs in browsers too (bindings/node/files.ts reads and
// writes the files on Node). The format, as TF.js itself reads it (tfjs-core io_utils decodeWeights,
// tfjs-layers container.loadWeights):
// - model.json: {format: "layers-model", generatedBy, convertedBy, modelTopology, weightsManifest,
//   trainingConfig?, signature?, userDefinedMetadata?}; the topology is `modelTopology.model_config`
//   (Python converter) or `modelTopology` itself (saved by TF.js).
// - weightsManifest: groups {paths, weights: [{name, shape, dtype, quantization?, group?}]}; a group's
//   bytes are its files concatenated, holding its weights little-endian in manifest order (a tensor may
//   straddle two files). Quantized weights: uint8/uint16 → q·scale + min, float16 → half precision.
//
// Net-Trim prunes chains of Dense layers with relu or linear activations. Dropout, InputLayer and
// Flatten are the identity at inference (for flat input) and are skipped; an Activation or ReLU layer
// after a Dense folds into it; softmax is allowed on the last layer only (the network's output is then
// the pre-softmax logits, and the written model keeps the softmax). Anything else is refused with a
// ModelFormatError naming the layer, its class and why it can't be pruned.
import type { DenseActivation, DenseLayerSpec, DenseNetwork, LayersModelSource } from "../../network/network.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { isObject, product, shapeStr, show, type Json } from "../json-helpers.ts";

// ---------------------------------------------------------------------------------------------
// Topology

interface RawLayer {
  className: string;
  name: string;
  config: Json;
  raw: Json;
}

interface DenseTopo {
  name: string;
  units: number;
  useBias: boolean;
  activation: DenseActivation;
  /** Input features declared in the topology (batch_input_shape / InputLayer / input_dim), first layer only. */
  declaredInput?: number;
}

interface Topology {
  className: string;
  modelName?: string;
  dense: DenseTopo[];
  outputActivation?: "softmax";
}

const MODEL_CLASSES = ["Sequential", "Model", "Functional"];

/** Layers that are the identity at inference time. */
const IDENTITY_LAYERS = new Set(["Dropout", "InputLayer", "Flatten"]);

const WHY_NOT: Record<string, string> = {
  Conv1D: "convolution layers are not supported: net-trim prunes Dense layers only",
  Conv2D: "convolution layers are not supported: net-trim prunes Dense layers only",
  Conv3D: "convolution layers are not supported: net-trim prunes Dense layers only",
  DepthwiseConv2D: "convolution layers are not supported: net-trim prunes Dense layers only",
  SeparableConv2D: "convolution layers are not supported: net-trim prunes Dense layers only",
  Conv2DTranspose: "convolution layers are not supported: net-trim prunes Dense layers only",
  BatchNormalization: "normalisation layers change the signal between Dense layers and are not supported (fold them into the Dense weights first)",
  LayerNormalization: "normalisation layers change the signal between Dense layers and are not supported",
  Add: "merge layers make the network a graph with branches; only a chain of Dense layers can be pruned",
  Concatenate: "merge layers make the network a graph with branches; only a chain of Dense layers can be pruned",
  Multiply: "merge layers make the network a graph with branches; only a chain of Dense layers can be pruned",
  Average: "merge layers make the network a graph with branches; only a chain of Dense layers can be pruned",
  LeakyReLU: "Net-Trim needs relu or linear between layers; a leaky relu is neither",
  PReLU: "Net-Trim needs relu or linear between layers; a parametric relu is neither",
  ELU: "Net-Trim needs relu or linear between layers",
  Softmax: "softmax is only allowed after the last Dense layer",
  Embedding: "embedding layers are not supported: net-trim prunes Dense layers only",
  LSTM: "recurrent layers are not supported: net-trim prunes Dense layers only",
  GRU: "recurrent layers are not supported: net-trim prunes Dense layers only",
  SimpleRNN: "recurrent layers are not supported: net-trim prunes Dense layers only",
  MaxPooling2D: "pooling layers are not supported: net-trim prunes chains of Dense layers only",
  AveragePooling2D: "pooling layers are not supported: net-trim prunes chains of Dense layers only",
};

const SUPPORTED =
  "a chain of Dense layers (activation relu or linear; softmax on the last only), with Dropout, InputLayer, Flatten, and Activation/ReLU layers (relu or linear) after a Dense";

function layerWhere(l: RawLayer): string {
  return `layer "${l.name}" (${l.className})`;
}

function activationName(v: unknown): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v;
  if (isObject(v)) {
    // Keras 3 may serialise {module, class_name: "function", config: "relu"}.
    if (typeof v.config === "string") return v.config;
    if (typeof v.class_name === "string") return v.class_name.toLowerCase();
  }
  return show(v);
}

function rawLayers(list: unknown, where: string): RawLayer[] {
  if (!Array.isArray(list)) {
    throw new ModelFormatError({ where, expected: "an array of layers", received: show(list) });
  }
  return list.map((l, i) => {
    if (!isObject(l) || typeof l.class_name !== "string") {
      throw new ModelFormatError({ where: `${where}[${i}]`, expected: "a layer {class_name, config}", received: show(l) });
    }
    const config = isObject(l.config) ? l.config : {};
    const name = typeof config.name === "string" ? config.name : typeof l.name === "string" ? l.name : `#${i}`;
    return { className: l.class_name, name, config, raw: l };
  });
}

function modelConfigOf(modelJson: unknown): { top: Json; where: string } {
  if (!isObject(modelJson)) {
    throw new ModelFormatError({ where: "model.json", expected: "a JSON object", received: show(modelJson) });
  }
  if (modelJson.format !== undefined && modelJson.format !== "layers-model") {
    throw new ModelFormatError({
      where: "model.json format",
      reason: modelJson.format === "graph-model" ? "a GraphModel (tf.loadGraphModel) has no layer topology to prune" : undefined,
      expected: '"layers-model"',
      received: show(modelJson.format),
    });
  }
  const mt = modelJson.modelTopology;
  if (!isObject(mt)) {
    throw new ModelFormatError({ where: "model.json modelTopology", expected: "an object (a Keras/TF.js model config)", received: show(mt) });
  }
  if (mt.model_config !== undefined) {
    if (!isObject(mt.model_config)) {
      throw new ModelFormatError({ where: "modelTopology.model_config", expected: "an object", received: show(mt.model_config) });
    }
    return { top: mt.model_config, where: "modelTopology.model_config" };
  }
  return { top: mt, where: "modelTopology" };
}

/** Inbound layer names of a functional-model layer: TF.js/Keras 2 node lists and Keras 3 {args} nodes. */
function inboundNodes(l: RawLayer): string[][] {
  const nodes = l.raw.inbound_nodes;
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) {
    throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, expected: "an array of nodes", received: show(nodes) });
  }
  return nodes.map((node) => {
    const names: string[] = [];
    if (Array.isArray(node)) {
      // [[layerName, nodeIndex, tensorIndex, kwargs], ...]
      for (const t of node) if (Array.isArray(t) && typeof t[0] === "string") names.push(t[0]);
    } else if (isObject(node)) {
      // Keras 3: {args: [{class_name: "__keras_tensor__", config: {keras_history: [name, node, tensor]}}], kwargs}
      const visit = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (isObject(v)) {
          const cfg = v.config;
          if (isObject(cfg) && Array.isArray(cfg.keras_history) && typeof cfg.keras_history[0] === "string") {
            names.push(cfg.keras_history[0]);
          } else for (const x of Object.values(v)) visit(x);
        }
      };
      visit(node.args);
    }
    return names;
  });
}

function endpointNames(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new ModelFormatError({ where, expected: "a list of [layerName, node, tensor]", received: show(v) });
  if (typeof v[0] === "string") return [v[0]]; // Keras 3 writes a single endpoint unwrapped
  return v.map((e, i) => {
    if (!Array.isArray(e) || typeof e[0] !== "string") {
      throw new ModelFormatError({ where: `${where}[${i}]`, expected: "[layerName, node, tensor]", received: show(e) });
    }
    return e[0];
  });
}

/** Orders a functional model's layers input → output, refusing anything that is not a simple chain. */
function functionalChain(config: Json, where: string): RawLayer[] {
  const layers = rawLayers(config.layers, `${where}.config.layers`);
  const byName = new Map<string, RawLayer>();
  for (const l of layers) {
    if (byName.has(l.name)) {
      throw new ModelFormatError({ where: layerWhere(l), expected: "unique layer names", received: `a second layer named "${l.name}"`, layer: l.name, className: l.className });
    }
    byName.set(l.name, l);
  }
  const inputs = endpointNames(config.input_layers, `${where}.config.input_layers`);
  const outputs = endpointNames(config.output_layers, `${where}.config.output_layers`);
  if (inputs.length !== 1) {
    throw new ModelFormatError({ where: `${where}.config.input_layers`, reason: "only a single-input chain can be pruned", expected: "one input", received: `${inputs.length} inputs (${inputs.join(", ")})` });
  }
  if (outputs.length !== 1) {
    throw new ModelFormatError({ where: `${where}.config.output_layers`, reason: "only a single-output chain can be pruned", expected: "one output", received: `${outputs.length} outputs (${outputs.join(", ")})` });
  }
  const consumers = new Map<string, RawLayer[]>();
  const inbound = new Map<string, string[]>();
  for (const l of layers) {
    const nodes = inboundNodes(l);
    if (nodes.length > 1) {
      throw new ModelFormatError({
        where: layerWhere(l), layer: l.name, className: l.className,
        reason: "a layer applied more than once (shared weights) is not a simple chain",
        expected: "at most one inbound node", received: `${nodes.length} inbound nodes`,
      });
    }
    const names = nodes[0] ?? [];
    inbound.set(l.name, names);
    for (const n of names) {
      if (!byName.has(n)) {
        throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, expected: "names of layers in the model", received: `"${n}"`, layer: l.name, className: l.className });
      }
      if (!consumers.has(n)) consumers.set(n, []);
      consumers.get(n)!.push(l);
    }
  }
  const first = byName.get(inputs[0]);
  const last = byName.get(outputs[0]);
  if (!first) throw new ModelFormatError({ where: `${where}.config.input_layers`, expected: "the name of a layer in the model", received: `"${inputs[0]}"` });
  if (!last) throw new ModelFormatError({ where: `${where}.config.output_layers`, expected: "the name of a layer in the model", received: `"${outputs[0]}"` });
  const order: RawLayer[] = [first];
  const seen = new Set([first.name]);
  let cur = first;
  while (cur !== last) {
    const next = consumers.get(cur.name) ?? [];
    if (next.length !== 1) {
      throw new ModelFormatError({
        where: layerWhere(cur), layer: cur.name, className: cur.className,
        reason: next.length === 0
          ? `the chain from input "${first.name}" ends here without reaching output "${last.name}"`
          : "its output feeds several layers (a branch); only a simple chain can be pruned",
        expected: "exactly one consuming layer",
        received: next.length === 0 ? "none" : `${next.length} (${next.map((c) => `"${c.name}"`).join(", ")})`,
      });
    }
    const n = next[0];
    const ins = inbound.get(n.name)!;
    if (ins.length !== 1) {
      throw new ModelFormatError({
        where: layerWhere(n), layer: n.name, className: n.className,
        reason: "it merges several tensors (a branch); only a simple chain can be pruned",
        expected: `one inbound tensor (from "${cur.name}")`,
        received: `${ins.length} (${ins.map((s) => `"${s}"`).join(", ")})`,
      });
    }
    if (seen.has(n.name)) {
      throw new ModelFormatError({ where: layerWhere(n), expected: "an acyclic chain", received: "a cycle", layer: n.name, className: n.className });
    }
    seen.add(n.name);
    order.push(n);
    cur = n;
  }
  const off = layers.filter((l) => !seen.has(l.name));
  if (off.length > 0) {
    const l = off[0];
    throw new ModelFormatError({
      where: layerWhere(l), layer: l.name, className: l.className,
      reason: `it is not on the chain from input "${first.name}" to output "${last.name}" (a branch)`,
      expected: "every layer on the input → output chain",
      received: `${off.length} layer(s) off the chain: ${off.map((x) => `"${x.name}"`).join(", ")}`,
    });
  }
  return order;
}

function featureShape(cfg: Json): number[] | undefined {
  const b = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(b)) return b.slice(1) as number[];
  if (Array.isArray(cfg.input_shape)) return cfg.input_shape as number[];
  if (typeof cfg.input_dim === "number") return [cfg.input_dim];
  return undefined;
}

/** Also used by the writer (tfjs-write.ts). */
export function parseTopology(modelJson: unknown): Topology {
  const { top, where } = modelConfigOf(modelJson);
  const className = top.class_name;
  if (typeof className !== "string" || !MODEL_CLASSES.includes(className)) {
    throw new ModelFormatError({ where: `${where}.class_name`, expected: "Sequential, Model or Functional", received: show(className) });
  }
  const config = top.config;
  let chain: RawLayer[];
  let modelName: string | undefined;
  if (className === "Sequential") {
    // Old Keras wrote the layer list itself as config.
    const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    chain = rawLayers(list, `${where}.config.layers`);
    if (isObject(config) && typeof config.name === "string") modelName = config.name;
  } else {
    if (!isObject(config)) throw new ModelFormatError({ where: `${where}.config`, expected: "an object", received: show(config) });
    chain = functionalChain(config, where);
    if (typeof config.name === "string") modelName = config.name;
  }

  const dense: DenseTopo[] = [];
  let inputShape: number[] | undefined; // per-sample feature shape from InputLayer / first layer
  let flattened = false;
  let softmaxAt: RawLayer | undefined; // the layer that applied a softmax, if any
  const refuse = (l: RawLayer, reason: string, received?: string): never => {
    throw new ModelFormatError({
      where: layerWhere(l), layer: l.name, className: l.className, reason,
      expected: SUPPORTED, received: received ?? `a ${l.className} layer`,
    });
  };
  const hiddenSoftmax = (l: RawLayer): never => {
    const s = softmaxAt!;
    throw new ModelFormatError({
      where: layerWhere(s), layer: s.name, className: s.className,
      reason: `softmax on a hidden layer (layer "${l.name}" follows it): Net-Trim needs relu or linear between layers, softmax only after the last Dense`,
      expected: "activation relu or linear", received: '"softmax"',
    });
  };
  const applyActivation = (l: RawLayer, act: string): void => {
    const prev = dense[dense.length - 1];
    if (act === "linear") return;
    if (!prev) refuse(l, "an activation before the first Dense layer changes the input and can't be folded into a Dense", `activation "${act}" on the input`);
    if (act === "relu") {
      if (softmaxAt) hiddenSoftmax(l);
      prev.activation = "relu"; // relu ∘ linear = relu, relu ∘ relu = relu
      return;
    }
    if (act === "softmax") {
      if (softmaxAt) hiddenSoftmax(l);
      softmaxAt = l;
      return;
    }
    refuse(l, `activation "${act}" can't be pruned: Net-Trim needs relu or linear (softmax on the last layer only)`, `activation "${act}"`);
  };

  for (const l of chain) {
    const cfg = l.config;
    const fs = featureShape(cfg);
    if (l.className === "Dense") {
      if (softmaxAt) hiddenSoftmax(l);
      const units = cfg.units;
      if (typeof units !== "number" || !Number.isInteger(units) || units < 1) {
        throw new ModelFormatError({ where: `${layerWhere(l)} units`, expected: "a positive integer", received: show(units), layer: l.name, className: l.className });
      }
      if (dense.length === 0 && fs) inputShape = fs;
      let declaredInput: number | undefined;
      if (dense.length === 0 && inputShape) {
        if (inputShape.length > 1 && !flattened) {
          refuse(l, `a Dense layer on input of shape ${shapeStr(inputShape.map((d) => d ?? -1))} acts on the last axis only; add a Flatten layer first`, `input shape [null, ${inputShape.join(", ")}]`);
        }
        declaredInput = inputShape.every((d) => typeof d === "number") ? product(inputShape) : undefined;
      }
      const act = activationName(cfg.activation);
      const spec: DenseTopo = { name: l.name, units, useBias: cfg.use_bias !== false, activation: "linear", declaredInput };
      dense.push(spec);
      applyActivation(l, act);
    } else if (IDENTITY_LAYERS.has(l.className)) {
      if (l.className === "InputLayer") {
        if (dense.length > 0) refuse(l, "an InputLayer after the first Dense layer");
        if (fs) inputShape = fs;
      } else if (l.className === "Flatten") {
        if (dense.length === 0) flattened = true;
      } else if (dense.length === 0 && fs) {
        inputShape = fs;
      }
    } else if (l.className === "Activation") {
      applyActivation(l, activationName(cfg.activation));
    } else if (l.className === "ReLU") {
      const maxValue = cfg.max_value ?? cfg.maxValue;
      const slope = cfg.negative_slope ?? 0;
      const threshold = cfg.threshold ?? 0;
      if ((maxValue !== undefined && maxValue !== null && maxValue !== Infinity) || slope !== 0 || threshold !== 0) {
        refuse(l, "only a plain relu can be folded (no max_value, negative_slope or threshold)", `max_value ${show(maxValue ?? null)}, negative_slope ${show(slope)}, threshold ${show(threshold)}`);
      }
      applyActivation(l, "relu");
    } else if (MODEL_CLASSES.includes(l.className)) {
      refuse(l, "nested models are not supported; flatten the model into one Sequential first");
    } else {
      refuse(l, WHY_NOT[l.className] ?? `a ${l.className} layer can't be pruned: net-trim prunes Dense layers only`);
    }
  }
  if (dense.length === 0) {
    throw new ModelFormatError({ where: `${where}.config.layers`, expected: "at least one Dense layer", received: `none (classes: ${chain.map((l) => l.className).join(", ") || "no layers"})` });
  }
  return { className, modelName, dense, outputActivation: softmaxAt ? "softmax" : undefined };
}

// ---------------------------------------------------------------------------------------------
// Weights manifest

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
  /** "model" (default) or "optimizer". */
  group: string;
  /** Index of the manifest group and within it. */
  groupIndex: number;
  index: number;
  where: string;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Also used by the writer (tfjs-write.ts). */
export function readManifest(modelJson: Json): { entries: ManifestEntry[]; groups: { paths: string[]; entries: ManifestEntry[] }[] } {
  const m = modelJson.weightsManifest;
  if (!Array.isArray(m)) {
    throw new ModelFormatError({ where: "model.json weightsManifest", expected: "an array of groups {paths, weights}", received: show(m) });
  }
  const entries: ManifestEntry[] = [];
  const groups = m.map((g, gi) => {
    const gw = `weightsManifest[${gi}]`;
    if (!isObject(g)) throw new ModelFormatError({ where: gw, expected: "a group {paths, weights}", received: show(g) });
    if (!Array.isArray(g.paths) || !g.paths.every((p) => typeof p === "string")) {
      throw new ModelFormatError({ where: `${gw}.paths`, expected: "an array of file names", received: show(g.paths) });
    }
    if (!Array.isArray(g.weights)) throw new ModelFormatError({ where: `${gw}.weights`, expected: "an array of weight entries", received: show(g.weights) });
    const ge = g.weights.map((w, wi): ManifestEntry => {
      const ww = `${gw}.weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== "string") throw new ModelFormatError({ where: ww, expected: "an entry {name, shape, dtype}", received: show(w) });
      const where = `${ww} "${w.name}"`;
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new ModelFormatError({ where: `${where} shape`, expected: "an array of non-negative integers", received: show(w.shape) });
      }
      const dtype = w.dtype === undefined ? "float32" : w.dtype;
      if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES || dtype === "string")) {
        throw new ModelFormatError({ where: `${where} dtype`, expected: "one of float32, int32, float16, bool, complex64, string", received: show(dtype) });
      }
      let quantization: ManifestEntry["quantization"];
      if (w.quantization !== undefined && w.quantization !== null) {
        const q = w.quantization;
        if (!isObject(q) || typeof q.dtype !== "string" || !(q.dtype in QUANT_BYTES)) {
          throw new ModelFormatError({ where: `${where} quantization.dtype`, expected: "uint8, uint16 or float16", received: show(isObject(q) ? q.dtype : q) });
        }
        if (q.dtype === "float16" && dtype !== "float32") {
          throw new ModelFormatError({ where: `${where} quantization`, expected: "float16 quantization of a float32 weight", received: `dtype ${show(dtype)}` });
        }
        if (q.dtype !== "float16") {
          if (typeof q.scale !== "number" || !Number.isFinite(q.scale) || typeof q.min !== "number" || !Number.isFinite(q.min)) {
            throw new ModelFormatError({ where: `${where} quantization`, expected: `finite numbers scale and min for ${q.dtype} quantization`, received: `scale ${show(q.scale)}, min ${show(q.min)}` });
          }
          if (dtype !== "float32" && dtype !== "int32") {
            throw new ModelFormatError({ where: `${where} quantization`, expected: `${q.dtype} quantization of a float32 or int32 weight`, received: `dtype ${show(dtype)}` });
          }
        }
        quantization = { dtype: q.dtype, scale: q.scale as number | undefined, min: q.min as number | undefined };
      }
      return {
        name: w.name, shape: w.shape as number[], dtype, quantization,
        group: typeof w.group === "string" ? w.group : "model", groupIndex: gi, index: wi, where,
      };
    });
    entries.push(...ge);
    return { paths: g.paths as string[], entries: ge };
  });
  return { entries, groups };
}

function storedAs(e: ManifestEntry): string {
  return e.quantization ? `${e.quantization.dtype}-quantized` : e.dtype;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24; // zero and subnormals
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

interface Decoded {
  entry: ManifestEntry;
  /** Numeric values as float32 (undefined for bool/string/complex64 weights). */
  values?: Float32Array;
}

function toBytes(x: unknown, where: string): Uint8Array {
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new ModelFormatError({ where, expected: "an ArrayBuffer", received: show(x === undefined ? undefined : Object.prototype.toString.call(x)) });
}

function decodeGroup(entries: ManifestEntry[], bytes: Uint8Array, gi: number, paths: string[]): Decoded[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files = paths.length ? paths.map((p) => `"${p}"`).join(" + ") : "(no files)";
  const where = `weightsManifest[${gi}] (files ${files})`;
  // Byte ranges first (strings are length-prefixed, so walk the data for them).
  const ranges: [number, number][] = [];
  let offset = 0;
  let short: ManifestEntry | undefined;
  for (const e of entries) {
    const size = product(e.shape);
    let len: number;
    if (e.quantization) len = size * QUANT_BYTES[e.quantization.dtype];
    else if (e.dtype === "string") {
      len = 0;
      for (let i = 0; i < size; i++) {
        if (offset + len + 4 > bytes.length) { len = Infinity; break; }
        len += 4 + view.getUint32(offset + len, true);
      }
    } else len = size * DTYPE_BYTES[e.dtype];
    if (!short && offset + len > bytes.length) short = e;
    ranges.push([offset, offset + len]);
    offset += len;
  }
  if (offset !== bytes.length) {
    const detail = short
      ? `weight "${short.name}" (${storedAs(short)} ${shapeStr(short.shape)}) needs bytes ${ranges[entries.indexOf(short)][0]}..${ranges[entries.indexOf(short)][1]} but the data ends at ${bytes.length}`
      : `${bytes.length - offset} bytes left over after the last weight "${entries[entries.length - 1]?.name ?? "(none)"}"`;
    throw new ModelFormatError({
      where, code: "shape_mismatch", file: paths[paths.length - 1],
      reason: `the group's data (its files concatenated) ${offset > bytes.length ? "is too short" : "is too long"} for its manifest: ${detail}`,
      expected: Number.isFinite(offset) ? `${offset} bytes` : `more than ${bytes.length} bytes`,
      received: `${bytes.length} bytes`,
    });
  }
  return entries.map((e, k) => {
    const [start] = ranges[k];
    const n = product(e.shape);
    const q = e.quantization;
    if (q) {
      const values = new Float32Array(n);
      if (q.dtype === "float16") {
        for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(start + 2 * i, true));
      } else {
        const scale = q.scale!, min = q.min!;
        const round = e.dtype === "int32";
        for (let i = 0; i < n; i++) {
          const v = q.dtype === "uint8" ? bytes[start + i] : view.getUint16(start + 2 * i, true);
          values[i] = round ? Math.round(v * scale + min) : v * scale + min;
        }
      }
      return { entry: e, values };
    }
    if (e.dtype === "float32") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(start + 4 * i, true);
      return { entry: e, values };
    }
    if (e.dtype === "int32") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getInt32(start + 4 * i, true);
      return { entry: e, values };
    }
    if (e.dtype === "float16") {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = halfToFloat(view.getUint16(start + 2 * i, true));
      return { entry: e, values };
    }
    return { entry: e }; // bool, string, complex64: layout known, not a Dense weight
  });
}

/** Which manifest entries are each Dense layer's kernel and bias (by name, then order and shape). */
/** Also used by the writer (tfjs-write.ts). */
export function mapWeights(dense: DenseTopo[], entries: ManifestEntry[]): { kernel: ManifestEntry; bias?: ManifestEntry }[] {
  const model = entries.filter((e) => e.group !== "optimizer");
  const claimed = new Set<ManifestEntry>();
  const result: { kernel: ManifestEntry; bias?: ManifestEntry }[] = [];
  let cursor = 0; // next manifest position for the order fallback
  for (let li = 0; li < dense.length; li++) {
    const L = dense[li];
    const free = model.filter((e) => !claimed.has(e));
    let cands = free.filter((e) => e.name.startsWith(`${L.name}/`));
    if (cands.length === 0) cands = free.filter((e) => e.name.split("/").slice(0, -1).includes(L.name));
    let kernel: ManifestEntry | undefined;
    let bias: ManifestEntry | undefined;
    const layerWhereStr = `Dense layer "${L.name}"`;
    if (cands.length > 0) {
      kernel = cands.find((e) => /(^|\/)kernel(:\d+)?$/.test(e.name)) ?? cands.find((e) => e.shape.length === 2);
      bias = cands.find((e) => /(^|\/)bias(:\d+)?$/.test(e.name)) ?? cands.find((e) => e.shape.length === 1 && e !== kernel);
      const extra = cands.filter((e) => e !== kernel && e !== bias);
      if (extra.length > 0) {
        throw new ModelFormatError({
          where: layerWhereStr, layer: L.name, className: "Dense",
          reason: "the manifest has weights under this layer's name that a Dense layer does not have",
          expected: `${L.name}/kernel${L.useBias ? ` and ${L.name}/bias` : ""}`,
          received: cands.map((e) => `"${e.name}" ${shapeStr(e.shape)}`).join(", "),
        });
      }
    } else {
      // No weight carries the layer's name: take the next unclaimed weights in manifest order.
      const rest = model.slice(cursor).filter((e) => !claimed.has(e));
      kernel = rest[0];
      bias = L.useBias ? rest[1] : undefined;
    }
    if (!kernel) {
      throw new ModelFormatError({
        where: layerWhereStr, layer: L.name, className: "Dense",
        reason: "missing weight",
        expected: `a kernel weight "${L.name}/kernel" of shape [inputs, ${L.units}] in weightsManifest`,
        received: cands.length ? cands.map((e) => `"${e.name}"`).join(", ") : "no weight for this layer",
      });
    }
    if (kernel.shape.length !== 2 || kernel.shape[1] !== L.units) {
      throw new ModelFormatError({
        where: `${layerWhereStr} kernel ${kernel.where}`, layer: L.name, className: "Dense", code: "shape_mismatch",
        expected: `shape [inputs, ${L.units}] (units = ${L.units})`, received: shapeStr(kernel.shape),
      });
    }
    if (L.useBias) {
      if (!bias) {
        throw new ModelFormatError({
          where: layerWhereStr, layer: L.name, className: "Dense", reason: "missing weight",
          expected: `a bias weight "${L.name}/bias" of shape [${L.units}] (use_bias is true)`,
          received: "no bias weight for this layer",
        });
      }
      if (bias.shape.length !== 1 || bias.shape[0] !== L.units) {
        throw new ModelFormatError({
          where: `${layerWhereStr} bias ${bias.where}`, layer: L.name, className: "Dense", code: "shape_mismatch",
          expected: `shape [${L.units}]`, received: shapeStr(bias.shape),
        });
      }
    } else if (bias) {
      throw new ModelFormatError({
        where: layerWhereStr, layer: L.name, className: "Dense",
        reason: "use_bias is false but the manifest has a bias for it",
        expected: "no bias weight", received: `"${bias.name}" ${shapeStr(bias.shape)}`,
      });
    }
    for (const e of [kernel, bias]) if (e && !(e.dtype in DTYPE_BYTES && e.dtype !== "bool" && e.dtype !== "complex64")) {
      throw new ModelFormatError({ where: `${e.where} dtype`, layer: L.name, className: "Dense", reason: "a Dense weight must be numeric", expected: "float32, int32 or float16", received: show(e.dtype) });
    }
    claimed.add(kernel);
    if (bias) claimed.add(bias);
    cursor = Math.max(cursor, model.indexOf(kernel) + 1, bias ? model.indexOf(bias) + 1 : 0);
    result.push({ kernel, bias });
  }
  const unused = model.filter((e) => !claimed.has(e));
  if (unused.length > 0) {
    throw new ModelFormatError({
      where: unused[0].where,
      reason: "this weight belongs to no Dense layer of the topology (net-trim would drop it silently otherwise)",
      expected: `only the kernels and biases of ${dense.map((d) => `"${d.name}"`).join(", ")}`,
      received: `${unused.length} other weight(s): ${unused.map((e) => `"${e.name}"`).join(", ")}`,
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Reads a TF.js LayersModel as a chain of Dense layers.
 *
 * @param modelJson  the parsed model.json
 * @param weightData one ArrayBuffer per manifest group (that group's files concatenated in `paths`
 *                   order), or a single ArrayBuffer holding every group's data in manifest order
 */
export function parseLayersModel(modelJson: unknown, weightData: ArrayBuffer | ArrayBuffer[]): DenseNetwork {
  const topo = parseTopology(modelJson);
  const { entries, groups } = readManifest(modelJson as Json);

  // Split the weight data per group.
  let groupBytes: Uint8Array[];
  if (Array.isArray(weightData)) {
    if (weightData.length !== groups.length) {
      throw new ModelFormatError({
        where: "weightData",
        expected: `one ArrayBuffer per weightsManifest group (${groups.length})`,
        received: `an array of ${weightData.length} buffers`,
      });
    }
    groupBytes = weightData.map((b, i) => toBytes(b, `weightData[${i}]`));
  } else {
    const all = toBytes(weightData, "weightData");
    if (groups.length === 1) groupBytes = [all];
    else {
      // Sizes are fixed unless a group holds strings; walk groups in order.
      groupBytes = [];
      let off = 0;
      for (const [gi, g] of groups.entries()) {
        let need = 0;
        for (const e of g.entries) {
          if (e.dtype === "string" && !e.quantization) {
            throw new ModelFormatError({ where: e.where, expected: "per-group weight data (an array of ArrayBuffers) for string weights", received: "one ArrayBuffer for all groups" });
          }
          need += product(e.shape) * (e.quantization ? QUANT_BYTES[e.quantization.dtype] : DTYPE_BYTES[e.dtype]);
        }
        const end = gi === groups.length - 1 ? all.length : Math.min(off + need, all.length);
        groupBytes.push(all.subarray(Math.min(off, all.length), end));
        off = end;
      }
    }
  }
  // Names and shapes first (manifest only), then the bytes.
  const mapping = mapWeights(topo.dense, entries);
  for (let li = 0; li < topo.dense.length; li++) {
    const L = topo.dense[li];
    const ke = mapping[li].kernel;
    const inputs = ke.shape[0];
    if (li === 0 && L.declaredInput !== undefined && L.declaredInput !== inputs) {
      throw new ModelFormatError({
        where: `Dense layer "${L.name}" kernel "${ke.name}"`, layer: L.name, className: "Dense", code: "shape_mismatch",
        reason: "the kernel does not match the model's declared input",
        expected: `shape [${L.declaredInput}, ${L.units}]`, received: shapeStr(ke.shape),
      });
    }
    if (li > 0) {
      const prev = topo.dense[li - 1];
      if (inputs !== prev.units) {
        throw new ModelFormatError({
          where: `Dense layer "${L.name}" kernel "${ke.name}"`, layer: L.name, className: "Dense", code: "shape_mismatch",
          reason: `shape mismatch between consecutive layers: its input must be the ${prev.units} outputs of Dense layer "${prev.name}"`,
          expected: `shape [${prev.units}, ${L.units}]`, received: shapeStr(ke.shape),
        });
      }
    }
  }
  const decoded = new Map<ManifestEntry, Decoded>();
  for (const [gi, g] of groups.entries()) {
    for (const d of decodeGroup(g.entries, groupBytes[gi], gi, g.paths)) decoded.set(d.entry, d);
  }
  const layers: DenseLayerSpec[] = [];
  for (let li = 0; li < topo.dense.length; li++) {
    const L = topo.dense[li];
    const { kernel: ke, bias: be } = mapping[li];
    const inputs = ke.shape[0];
    layers.push({
      name: L.name,
      activation: L.activation,
      kernel: decoded.get(ke)!.values!,
      bias: be ? decoded.get(be)!.values! : new Float32Array(L.units),
      useBias: L.useBias,
      inputs,
      units: L.units,
    });
  }
  const net: DenseNetwork = {
    layers,
    inputSize: layers[0].inputs,
    source: {
      format: "tfjs-layers-model",
      className: topo.className,
      modelName: topo.modelName,
      weightNames: mapping.map((m) => ({ kernel: m.kernel.name, bias: m.bias?.name })),
      storedAs: mapping.map((m) => ({ kernel: storedAs(m.kernel), bias: m.bias ? storedAs(m.bias) : undefined })),
      skippedWeights: entries.filter((e) => e.group === "optimizer").map((e) => e.name),
    },
  };
  if (topo.outputActivation) net.outputActivation = topo.outputActivation;
  return net;
}
