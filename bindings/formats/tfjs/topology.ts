// The model topology of a TF.js LayersModel read as a chain of Dense layers: Sequential or
// functional, identity layers skipped, activations folded, anything else refused by name.
import type { DenseActivation } from "../../network/network.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { hasOwn, isObject, product, shapeStr, show, type Json } from "../json-helpers.ts";
import { checkJsonDepth } from "../json-depth.ts";

export interface RawLayer {
  className: string;
  name: string;
  config: Json;
  raw: Json;
}

export interface DenseTopo {
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

export function layerWhere(l: RawLayer): string {
  return `layer "${l.name}" (${l.className})`;
}

export function activationName(v: unknown): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v;
  if (isObject(v)) {
    // Keras 3 may serialise {module, class_name: "function", config: "relu"}.
    if (typeof v.config === "string") return v.config;
    if (typeof v.class_name === "string") return v.class_name.toLowerCase();
  }
  return show(v);
}

export function rawLayers(list: unknown, where: string): RawLayer[] {
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

export function modelConfigOf(modelJson: unknown): { top: Json; where: string } {
  if (!isObject(modelJson)) {
    throw new ModelFormatError({ where: "model.json", expected: "a JSON object", received: show(modelJson) });
  }
  checkJsonDepth(modelJson, "model.json");
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
      refuse(l, (hasOwn(WHY_NOT, l.className) ? WHY_NOT[l.className] : undefined) ?? `a ${l.className} layer can't be pruned: net-trim prunes Dense layers only`);
    }
  }
  if (dense.length === 0) {
    throw new ModelFormatError({ where: `${where}.config.layers`, expected: "at least one Dense layer", received: `none (classes: ${chain.map((l) => l.className).join(", ") || "no layers"})` });
  }
  return { className, modelName, dense, outputActivation: softmaxAt ? "softmax" : undefined };
}
