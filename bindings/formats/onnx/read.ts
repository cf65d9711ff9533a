// An ONNX model (ModelProto bytes) → the format-neutral model graph (NHWC, TF.js weight layouts)
// and the source needed to write it back. One graph node per ONNX node, named as the node (or its
// output when unnamed); Constant nodes become constants, a MatMul's bias Add joins the MatMul, a
// Conv or pool whose pads are not TensorFlow's "same" gets a zeroPad2d node before it.
import { GraphError, ValidationError } from "../../errors.ts";
import { buildGraph } from "../../network/graph/build.ts";
import type { ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { hasOwn } from "../json-helpers.ts";
import { checkGraphSizes, checkGraphWeightsFinite } from "../weight-checks.ts";
import { NodeContext } from "./node-context.ts";
import { isFloatType, readActivation, readAdd, readBatchNorm, readClip, readConcat, readIdentity, readSoftmax } from "./ops-elementwise.ts";
import { readFlatten, readGlobalAveragePool, readPad, readPool, readReshape } from "./ops-spatial.ts";
import { readConv, readGemm, readMatMul } from "./ops-weighted.ts";
import { ReadState } from "./read-state.ts";
import { constantTensors } from "./read-constants.ts";
import { decodeModel, int64, type ModelProto } from "./schema.ts";
import { typeName } from "./tensor-data.ts";
import type { OnnxReadOptions, OnnxSource, OnnxValueInfo, ValueLayout } from "./types.ts";

const MIN_OPSET = 10;
const MAX_OPSET = 17;

type OpReader = (ctx: NodeContext, st: ReadState) => void;

const READERS: Record<string, OpReader> = {
  Gemm: readGemm, MatMul: readMatMul, Conv: readConv,
  Relu: readActivation, Sigmoid: readActivation, Tanh: readActivation, Clip: readClip, Softmax: readSoftmax,
  MaxPool: readPool, AveragePool: readPool, GlobalAveragePool: readGlobalAveragePool, Pad: readPad,
  Flatten: readFlatten, Reshape: readReshape, BatchNormalization: readBatchNorm,
  Add: readAdd, Concat: readConcat, Dropout: readIdentity, Identity: readIdentity,
};

function decode(bytes: Uint8Array): ModelProto {
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new ModelFormatError({ where: "model", expected: "an ONNX ModelProto (protobuf)", received: `bytes that do not decode (${(e as Error).message})` });
  }
}

function defaultOpset(model: ModelProto): number {
  const entry = (model.opset_import ?? []).find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
  const version = entry ? int64(entry.version) : undefined;
  if (version === undefined || version < MIN_OPSET || version > MAX_OPSET) {
    throw new ModelFormatError({ where: "model opset_import", expected: `the default ONNX domain at opset ${MIN_OPSET}–${MAX_OPSET}`, received: version === undefined ? "no default-domain opset" : `opset ${version}` });
  }
  return version;
}

function graphLayoutShape(shape: number[], layout: ValueLayout): number[] {
  return layout.kind === "nchw" ? [shape[1], shape[2], shape[0]] : shape;
}

/**
 * Reads an ONNX model. `bytes`: the .onnx file. The graph is NHWC: an image input [N, C, H, W] is
 * the graph input [H, W, C] (onnxToGraphLayout converts data); see README "ONNX" for the op set.
 * Throws a ModelFormatError naming the node, its op_type and why for anything it cannot read.
 */
export function parseOnnxModel(bytes: Uint8Array | ArrayBuffer, options: OnnxReadOptions = {}): { graph: ModelGraph; source: OnnxSource } {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) throw new ValidationError("bytes", "a Uint8Array or ArrayBuffer (the .onnx file)", bytes);
  if (options.loadExternal !== undefined && typeof options.loadExternal !== "function") throw new ValidationError("options.loadExternal", "a function (location) => Uint8Array | undefined", options.loadExternal);
  const data = new Uint8Array(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)); // a copy (a Buffer's slice would share memory)
  const model = decode(data);
  const g = model.graph;
  if (!g) throw new ModelFormatError({ where: "model graph", expected: "a GraphProto", received: "none" });
  const opset = defaultOpset(model);
  const nodes = g.node ?? [];
  const externalData = new Map<string, Uint8Array>();
  const { constants, external } = constantTensors(g, nodes, options.loadExternal, externalData);
  const st = new ReadState(opset, nodes, external);
  for (const [name, c] of constants) st.constants.set(name, c);
  for (const o of g.output ?? []) st.uses.set(o.name ?? "", (st.uses.get(o.name ?? "") ?? 0) + 1);

  const inputs: OnnxValueInfo[] = [];
  const specs = st.specs;
  for (const [i, vi] of (g.input ?? []).entries()) {
    const name = vi.name ?? "";
    if (st.isConstant(name)) continue; // IR < 4 lists initializers as inputs too
    const where = `model input ${i} "${name}"`;
    const t = vi.type?.tensor_type;
    if (!t || !isFloatType(t.elem_type)) throw new ModelFormatError({ where, expected: "a FLOAT (or FLOAT16/DOUBLE) tensor", received: t ? typeName(t.elem_type) : "not a tensor" });
    const dims = (t.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value !== null ? int64(d.dim_value) : -1));
    const perSample = dims.slice(1);
    if (dims.length < 2 || !perSample.every((d) => d >= 1)) {
      throw new ModelFormatError({ where, expected: "a shape [batch, ...] with fixed sizes after the batch", received: `[${(t.shape?.dim ?? []).map((d) => d.dim_param ?? int64(d.dim_value)).join(", ")}]` });
    }
    if (inputs.length === 0 && dims[0] >= 1) st.batch = dims[0];
    const layout: ValueLayout = perSample.length === 3 ? { kind: "nchw" } : { kind: "plain" };
    const node = st.uniqueName(name);
    st.add({ name: node, op: "input", inputs: [], shape: graphLayoutShape(perSample, layout) }, name, perSample, layout);
    inputs.push({ name, node, shape: perSample, layout });
  }

  nodes.forEach((n, index) => {
    if (st.fused.has(index) || n.op_type === "Constant") return;
    const ctx = new NodeContext(n, index);
    const domain = n.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") ctx.fail(`domain "${domain}" is not read`, "an op of the default ONNX domain", `domain "${domain}"`);
    const read = hasOwn(READERS, ctx.op) ? READERS[ctx.op] : undefined;
    if (!read) return ctx.fail(`op_type ${ctx.op} is not supported`, `one of ${Object.keys(READERS).join(", ")}, Constant`, ctx.op || "none");
    if (!ctx.outputs[0]) ctx.fail("it has no output", "an output tensor", "none");
    read(ctx, st);
  });

  const outputs: OnnxValueInfo[] = (g.output ?? []).map((o, i) => {
    const name = o.name ?? "";
    const v = st.values.get(name);
    if (!v) throw new ModelFormatError({ where: `model output ${i} "${name}"`, expected: "a tensor computed from the model's inputs", received: st.isConstant(name) ? "a constant" : "no node produces it" });
    return { name, node: v.node, shape: v.shape, layout: v.layout };
  });
  let graph: ModelGraph;
  try {
    graph = buildGraph(specs, inputs.map((i) => i.node), outputs.map((o) => o.node));
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const index = nodes.findIndex((n) => (n.name || n.output?.[0]) === e.node);
    const where = index >= 0 ? new NodeContext(nodes[index], index).where : `graph node "${e.node}"`;
    throw new ModelFormatError({ where, layer: e.node, className: e.op, code: e.code, expected: "a node consistent with its inputs and weights", received: e.detail });
  }
  const place = (n: ModelGraph["nodes"][number]) => {
    const index = nodes.findIndex((x) => (x.name || x.output?.[0]) === n.name);
    return { where: index >= 0 ? new NodeContext(nodes[index], index).where : `graph node "${n.name}"`, layer: n.name, className: n.origin?.className ?? n.op };
  };
  checkGraphSizes(graph, place);
  checkGraphWeightsFinite(graph, place);
  return { graph, source: { bytes: data, weights: st.bindings, externalData, inputs, outputs, opset } };
}
