// The layers of a TF.js LayersModel and how they connect: Sequential (each layer feeds the next)
// or functional ("Model" / "Functional": inbound_nodes per layer). Both Keras 2 / TF.js nodes
// `[[["name", nodeIndex, tensorIndex, kwargs], ...]]` and Keras 3 nodes `[{args: [...], kwargs}]`,
// whose args hold `{class_name: "__keras_tensor__", config: {keras_history: [name, node, tensor]}}`.
// A layer called more than once (shared weights) and nested models are refused by name.
import { ModelFormatError } from "../model-format-error.ts";
import { isObject, show, type Json } from "../json-helpers.ts";
import { layerWhere, modelConfigOf, rawLayers, type RawLayer } from "./topology.ts";

export interface ConnectedLayer extends RawLayer {
  /** Names of the layers whose outputs it takes, in argument order (empty for an InputLayer). */
  inbound: string[];
}

interface LayerTopology {
  className: string;
  layers: ConnectedLayer[];
  inputs: string[];
  outputs: string[];
  /** Set for a Sequential model without an InputLayer: the name given to its implicit input. */
  implicitInput?: { name: string; batchShape: unknown };
}

const MODEL_CLASSES = ["Sequential", "Model", "Functional"];

type TensorRef = [string, number, number];

function refOf(v: unknown): TensorRef | undefined {
  if (Array.isArray(v) && typeof v[0] === "string") return [v[0], Number(v[1] ?? 0), Number(v[2] ?? 0)];
  return undefined;
}

/** The tensors one inbound node takes, in order. */
function nodeTensors(l: RawLayer, node: unknown): TensorRef[] {
  const refs: TensorRef[] = [];
  if (Array.isArray(node)) {
    for (const t of node) {
      const r = refOf(t);
      if (!r) throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, expected: '["layerName", nodeIndex, tensorIndex, kwargs]', received: show(t) });
      refs.push(r);
    }
    return refs;
  }
  if (isObject(node)) {
    const visit = (v: unknown, inKwargs: boolean): void => {
      if (Array.isArray(v)) v.forEach((x) => visit(x, inKwargs));
      else if (isObject(v)) {
        if (v.class_name === "__keras_tensor__" && isObject(v.config)) {
          const r = refOf(v.config.keras_history);
          if (!r) throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, expected: "keras_history [name, node, tensor]", received: show(v.config.keras_history) });
          if (inKwargs) {
            throw new ModelFormatError({
              where: `${layerWhere(l)} inbound_nodes kwargs`, layer: l.name, className: l.className,
              reason: "a tensor passed as a keyword argument (a mask, a training flag computed from data) is not supported",
              expected: "tensors in args only", received: `tensor from "${r[0]}" in kwargs`,
            });
          }
          refs.push(r);
        } else for (const x of Object.values(v)) visit(x, inKwargs);
      }
    };
    visit(node.args, false);
    visit(node.kwargs, true);
    return refs;
  }
  throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, expected: "a node (an array of tensor references, or {args, kwargs})", received: show(node) });
}

function endpoints(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new ModelFormatError({ where, expected: "a list of [layerName, node, tensor]", received: show(v) });
  const list = typeof v[0] === "string" ? [v] : v; // Keras 3 writes a single endpoint unwrapped
  return list.map((e, i) => {
    const r = refOf(e);
    if (!r) throw new ModelFormatError({ where: `${where}[${i}]`, expected: "[layerName, node, tensor]", received: show(e) });
    if (r[1] !== 0 || r[2] !== 0) throw new ModelFormatError({ where: `${where}[${i}]`, reason: "layers have one call and one output here", expected: "node 0, tensor 0", received: `node ${r[1]}, tensor ${r[2]}` });
    return r[0];
  });
}

/** Nested models first: their inbound nodes and endpoints would otherwise fail less clearly. */
function refuseNested(raw: RawLayer[]): RawLayer[] {
  for (const l of raw) {
    if (MODEL_CLASSES.includes(l.className)) {
      throw new ModelFormatError({ where: layerWhere(l), layer: l.name, className: l.className, reason: "nested models are not supported", expected: "layers only (flatten the inner model into the outer one)", received: `a nested ${l.className}` });
    }
  }
  return raw;
}

function functional(config: Json, where: string, className: string): LayerTopology {
  const raw = refuseNested(rawLayers(config.layers, `${where}.config.layers`));
  const names = new Set(raw.map((l) => l.name));
  const layers = raw.map((l): ConnectedLayer => {
    const nodes = l.raw.inbound_nodes ?? [];
    if (!Array.isArray(nodes)) throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, expected: "an array of nodes", received: show(nodes) });
    if (nodes.length > 1) {
      throw new ModelFormatError({
        where: layerWhere(l), layer: l.name, className: l.className,
        reason: "a layer called more than once (shared weights) is not supported",
        expected: "at most one inbound node", received: `${nodes.length} inbound nodes`,
      });
    }
    const refs = nodes.length ? nodeTensors(l, nodes[0]) : [];
    for (const [n, node, tensor] of refs) {
      if (!names.has(n)) throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, expected: "names of layers in the model", received: `"${n}"` });
      if (node !== 0 || tensor !== 0) {
        throw new ModelFormatError({ where: `${layerWhere(l)} inbound_nodes`, layer: l.name, className: l.className, reason: "layers have one call and one output here", expected: `node 0, tensor 0 of "${n}"`, received: `node ${node}, tensor ${tensor}` });
      }
    }
    return { ...l, inbound: refs.map((r) => r[0]) };
  });
  const inputs = endpoints(config.input_layers, `${where}.config.input_layers`);
  const outputs = endpoints(config.output_layers, `${where}.config.output_layers`);
  for (const [list, field] of [[inputs, "input_layers"], [outputs, "output_layers"]] as const) {
    for (const n of list) if (!names.has(n)) throw new ModelFormatError({ where: `${where}.config.${field}`, expected: "names of layers in the model", received: `"${n}"` });
  }
  return { className, layers, inputs, outputs };
}

function sequential(config: unknown, where: string, className: string): LayerTopology {
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  const raw = refuseNested(rawLayers(list, `${where}.config.layers`));
  if (raw.length === 0) throw new ModelFormatError({ where: `${where}.config.layers`, expected: "at least one layer", received: "none" });
  const layers: ConnectedLayer[] = [];
  let implicitInput: LayerTopology["implicitInput"];
  let previous: string;
  if (raw[0].className === "InputLayer") {
    layers.push({ ...raw[0], inbound: [] });
    previous = raw[0].name;
  } else {
    const cfg = raw[0].config;
    // TF.js names a Sequential model's implicit input after its first layer.
    previous = `${raw[0].name}_input`;
    implicitInput = { name: previous, batchShape: cfg.batch_input_shape ?? cfg.batch_shape ?? (Array.isArray(cfg.input_shape) ? [null, ...cfg.input_shape] : undefined) };
  }
  for (const l of raw.slice(layers.length)) {
    if (l.className === "InputLayer") throw new ModelFormatError({ where: layerWhere(l), layer: l.name, className: l.className, expected: "an InputLayer only first in a Sequential model", received: "one later" });
    layers.push({ ...l, inbound: [previous] });
    previous = l.name;
  }
  return { className, layers, inputs: [layers[0].inbound.length ? implicitInput!.name : layers[0].name], outputs: [previous], implicitInput };
}

/** The model's layers, their connections, inputs and outputs. */
export function readLayerTopology(modelJson: unknown): LayerTopology {
  const { top, where } = modelConfigOf(modelJson);
  const className = top.class_name;
  if (typeof className !== "string" || !MODEL_CLASSES.includes(className)) {
    throw new ModelFormatError({ where: `${where}.class_name`, expected: "Sequential, Model or Functional", received: show(className) });
  }
  const topo = className === "Sequential" ? sequential(top.config, where, className) : isObject(top.config)
    ? functional(top.config, where, className)
    : (() => { throw new ModelFormatError({ where: `${where}.config`, expected: "an object", received: show(top.config) }); })();
  const seen = new Set<string>();
  for (const l of topo.layers) {
    if (seen.has(l.name)) throw new ModelFormatError({ where: layerWhere(l), layer: l.name, className: l.className, expected: "unique layer names", received: `a second layer named "${l.name}"` });
    seen.add(l.name);
  }
  return topo;
}
