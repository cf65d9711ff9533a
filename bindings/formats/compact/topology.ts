// The compact file's topology: the model graph as JSON without its weights. Every node is an array
// [name, op, inputs, ...its op's fields in the order of FIELDS below, origin?] (an absent optional
// field is null; origin is [className, weightNames]); each weight field holds the index of its
// tensor (in order of appearance: 0, 1, 2, ...) and `tensors` lists [length, nonzeros] per tensor. Reading
// checks every field's type against the table below, so that a file no encoder wrote is refused
// by name instead of reaching the graph code with odd values.
import type { GraphNode, GraphNodeSpec, GraphOp, ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";

type Kind =
  | "int" | "number" | "bool" | "pair" | "ints" | "padding" | "activation" | "tensor" | "tensorOrNull" | "foldedBatchNorm";

/** Per op, its fields besides name, op, inputs and origin; a "?" suffix marks an optional field. */
const FIELDS: Record<GraphOp, Record<string, Kind | `${Kind}?`>> = {
  input: { shape: "ints" },
  dense: { units: "int", activation: "activation", kernel: "tensor", bias: "tensorOrNull" },
  conv2d: {
    filters: "int", kernelSize: "pair", strides: "pair", padding: "padding", dilation: "pair", activation: "activation",
    kernel: "tensor", bias: "tensorOrNull",
  },
  depthwiseConv2d: {
    depthMultiplier: "int", kernelSize: "pair", strides: "pair", padding: "padding", dilation: "pair", activation: "activation",
    kernel: "tensor", bias: "tensorOrNull",
  },
  batchNorm: { axis: "int", epsilon: "number", gamma: "tensorOrNull", beta: "tensorOrNull", mean: "tensor", variance: "tensor" },
  maxPool2d: { poolSize: "pair", strides: "pair", padding: "padding" },
  avgPool2d: { poolSize: "pair", strides: "pair", padding: "padding" },
  globalAvgPool2d: { keepDims: "bool" },
  flatten: {},
  reshape: { targetShape: "ints" },
  zeroPad2d: { pads: "ints" },
  upSample2d: { size: "pair" },
  identity: { foldedBatchNorm: "foldedBatchNorm?" },
  activation: { activation: "activation", axis: "int?" },
  add: {},
  concat: { axis: "int" },
};
const ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax"];

/** A weight field of a node: where its values go once decoded. */
interface WeightSlot {
  node: Record<string, unknown>;
  field: string;
  length: number;
  nonzeros: number;
  /** 'node "fc1" kernel': for messages. */
  where: string;
}

/** The topology of a graph (without the tensor table), and its weight tensors in the order it numbers them. */
export function topologyOf(graph: ModelGraph): { topology: Record<string, unknown>; tensors: { where: string; values: Float32Array }[] } {
  const tensors: { where: string; values: Float32Array }[] = [];
  const nodes = graph.nodes.map((node) => {
    const out: unknown[] = [node.name, node.op, node.inputs];
    const record = node as unknown as Record<string, unknown>;
    for (const field of Object.keys(FIELDS[node.op])) {
      const value = record[field];
      if (value instanceof Float32Array) {
        out.push(tensors.length);
        tensors.push({ where: `node "${node.name}" ${field}`, values: value });
      } else out.push(value ?? null);
    }
    if (node.origin) out.push([node.origin.className, node.origin.weightNames]);
    return out;
  });
  return { topology: { inputs: graph.inputs, outputs: graph.outputs, nodes }, tensors };
}

function refuse(where: string, expected: string, received: unknown): never {
  const shown = typeof received === "string" ? JSON.stringify(received) : JSON.stringify(received) ?? String(received);
  throw new ModelFormatError({ where: `compact model topology ${where}`, expected, received: shown.length > 80 ? `${shown.slice(0, 80)}…` : shown });
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) refuse(where, "an array of strings", v);
  return v;
}

function checkField(kind: Kind, v: unknown, where: string): void {
  const ok = (() => {
    switch (kind) {
      case "int": return isInt(v);
      case "number": return typeof v === "number" && Number.isFinite(v);
      case "bool": return typeof v === "boolean";
      case "pair": return Array.isArray(v) && v.length === 2 && v.every(isInt);
      case "ints": return Array.isArray(v) && v.length <= 16 && v.every(isInt);
      case "padding": return v === "same" || v === "valid";
      case "activation": return typeof v === "string" && ACTIVATIONS.includes(v);
      case "tensor": return isInt(v);
      case "tensorOrNull": return v === null || isInt(v);
      case "foldedBatchNorm": return isRecord(v) && Object.keys(v).length === 2 && typeof v.epsilon === "number" && Number.isFinite(v.epsilon) && typeof v.into === "string";
    }
  })();
  if (!ok) refuse(where, ({ int: "an integer", number: "a finite number", bool: "true or false", pair: "two integers", ints: "at most 16 integers",
    padding: '"same" or "valid"', activation: ACTIVATIONS.join(" | "), tensor: "a tensor index", tensorOrNull: "a tensor index or null",
    foldedBatchNorm: "{epsilon, into}" } as const)[kind], v);
}

/**
 * Node specs (weights not yet filled in) and the tensor slots, from the topology JSON; every
 * field checked. The caller decodes each slot's values and then builds the graph.
 */
export function parseTopology(json: unknown): { specs: GraphNodeSpec[]; inputs: string[]; outputs: string[]; slots: WeightSlot[] } {
  if (!isRecord(json)) refuse("", "a JSON object", json);
  for (const key of Object.keys(json)) if (!["inputs", "outputs", "nodes", "tensors"].includes(key)) refuse(key, "inputs, outputs, nodes and tensors only", key);
  const inputs = strings(json.inputs, "inputs");
  const outputs = strings(json.outputs, "outputs");
  const table = json.tensors;
  if (!Array.isArray(table) || !table.every((t) => Array.isArray(t) && t.length === 2 && isInt(t[0]) && isInt(t[1]) && t[0] >= 1 && t[1] >= 0 && t[1] <= t[0])) {
    refuse("tensors", "[length ≥ 1, nonzeros ≤ length] per tensor", table);
  }
  if (!Array.isArray(json.nodes)) refuse("nodes", "an array of nodes", json.nodes);
  const slots: WeightSlot[] = [];
  const specs = json.nodes.map((raw: unknown, i: number) => {
    if (!Array.isArray(raw) || raw.length < 3) refuse(`nodes[${i}]`, "[name, op, inputs, ...fields, origin?]", raw);
    const [name, op] = raw;
    if (typeof op !== "string" || !Object.hasOwn(FIELDS, op)) refuse(`nodes[${i}] op`, Object.keys(FIELDS).join(" | "), op);
    if (typeof name !== "string") refuse(`nodes[${i}] name`, "a string", name);
    const where = `node "${name}" (${op})`;
    const fields = Object.entries(FIELDS[op as GraphOp]);
    if (raw.length !== 3 + fields.length && raw.length !== 4 + fields.length) refuse(where, `${3 + fields.length} or ${4 + fields.length} entries`, `${raw.length}`);
    const node: Record<string, unknown> = { name, op, inputs: strings(raw[2], `${where} inputs`) };
    for (const [k, [field, spec]] of fields.entries()) {
      const kind = spec.replace("?", "") as Kind;
      const v = raw[3 + k];
      if (v === null && spec.endsWith("?")) continue;
      checkField(kind, v, `${where} ${field}`);
      if ((kind === "tensor" || kind === "tensorOrNull") && v !== null) {
        if (v !== slots.length || slots.length >= table.length) refuse(`${where} ${field}`, `tensor ${slots.length} (tensors are numbered in order, ${table.length} in the table)`, v);
        const [length, nonzeros] = table[slots.length] as [number, number];
        slots.push({ node, field, length, nonzeros, where: `compact model ${where} ${field}` });
      } else node[field] = Array.isArray(v) ? [...v] : v;
    }
    if (raw.length === 4 + fields.length) node.origin = checkOrigin(raw[3 + fields.length], `${where} origin`);
    return node as unknown as GraphNodeSpec;
  });
  if (slots.length !== table.length) refuse("tensors", `${slots.length} entries (the weight fields of the nodes)`, `${table.length} entries`);
  return { specs, inputs, outputs, slots };
}

function checkOrigin(v: unknown, where: string): NonNullable<GraphNode["origin"]> {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || !isRecord(v[1]) || !Object.values(v[1]).every((s) => typeof s === "string")) {
    refuse(where, "[className, {role: weight name}]", v);
  }
  return { className: v[0], weightNames: { ...(v[1] as Record<string, string>) } };
}
