// Activations (Relu, Clip as relu/relu6, Sigmoid, Tanh, Softmax), Identity and inference Dropout,
// BatchNormalization, and the merges Add and Concat. Elementwise ops keep their input's layout.
import type { GraphActivation } from "../../network/graph/types.ts";
import type { NodeContext } from "./node-context.ts";
import type { ReadState, Value } from "./read-state.ts";
import { DataType } from "./schema.ts";

const FLOAT_MAX = 3.4028234663852886e38;

function nodeName(ctx: NodeContext, st: ReadState): string {
  return st.uniqueName(ctx.name || ctx.outputs[0] || `${ctx.op}_${ctx.index}`);
}

function origin(ctx: NodeContext) {
  return { className: ctx.op, weightNames: {} };
}

function addActivation(ctx: NodeContext, st: ReadState, x: Value, activation: GraphActivation): void {
  const nonnegative = activation === "relu" || activation === "relu6" || activation === "sigmoid" || activation === "softmax";
  st.add({ name: nodeName(ctx, st), op: "activation", inputs: [x.node], activation, origin: origin(ctx) }, ctx.outputs[0], [...x.shape], x.layout, nonnegative);
}

export function readActivation(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  addActivation(ctx, st, x, ctx.op === "Relu" ? "relu" : ctx.op === "Sigmoid" ? "sigmoid" : "tanh");
}

/** Clip as relu (min 0, no max) or relu6 (min 0, max 6; min ≤ 0 will do after a ReLU). */
export function readClip(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  const bound = (i: number, attr: string, fallback: number): number => {
    if (st.opset < 11) return ctx.float(attr, fallback);
    return ctx.input(i) ? st.numbersConst(ctx.input(i), `${ctx.where} input ${attr}`)[0] : fallback;
  };
  const lo = bound(1, "min", -Infinity), hi = bound(2, "max", Infinity);
  const noMax = hi >= FLOAT_MAX;
  const floorOk = lo === 0 || (x.nonnegative && lo <= 0);
  if (floorOk && hi === 6) return addActivation(ctx, st, x, "relu6");
  if (floorOk && noMax) return addActivation(ctx, st, x, lo === 0 ? "relu" : "linear");
  ctx.fail("the graph's clipping activations are relu and relu6", "min 0 (or ≤ 0 after a ReLU) and max 6 or none", `min ${lo}, max ${hi}`);
}

export function readIdentity(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  if (ctx.op === "Dropout") {
    if (ctx.outputs[1] && st.uses.get(ctx.outputs[1])) ctx.fail("its mask output is used", "only the data output used", `output "${ctx.outputs[1]}" consumed`);
    const training = ctx.input(2) ? st.numbersConst(ctx.input(2), `${ctx.where} input training_mode`)[0] : 0;
    if (training) ctx.fail("training-mode dropout is random", "training_mode false (inference)", "true");
  }
  st.add({ name: nodeName(ctx, st), op: "identity", inputs: [x.node], origin: origin(ctx) }, ctx.outputs[0], [...x.shape], x.layout, x.nonnegative);
}

export function readSoftmax(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  const rank = x.shape.length + 1;
  const raw = ctx.int("axis", st.opset >= 13 ? -1 : 1);
  const axis = raw < 0 ? raw + rank : raw;
  // The graph's softmax runs over its last axis: ONNX's last axis of plain data, C of an image.
  // Before opset 13 Softmax flattens from `axis` on: one axis only when it is the last.
  const last = x.layout.kind === "nchw" && st.opset >= 13 ? 1 : rank - 1;
  if (axis !== last || x.layout.kind === "chwFlat") ctx.refuse("axis", `${last} (the graph's softmax runs over the last axis of NHWC data)`, raw);
  addActivation(ctx, st, x, "softmax");
}

export function readBatchNorm(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  if (ctx.int("training_mode", 0) !== 0) ctx.refuse("training_mode", "0 (inference statistics)", 1);
  for (const o of ctx.outputs.slice(1)) if (o && st.uses.get(o)) ctx.fail("a training output is used", "only Y used", `output "${o}" consumed`);
  if (!(x.layout.kind === "nchw" || (x.layout.kind === "plain" && x.shape.length === 1))) {
    ctx.fail("the graph normalises the last (channel) axis", "an input [N, C, H, W] or [N, C]", `[N, ${x.shape.join(", ")}]`);
  }
  const c = x.shape[0];
  const name = nodeName(ctx, st);
  const fields = ["gamma", "beta", "mean", "variance"] as const;
  const values: Float32Array[] = [];
  const weightNames: Record<string, string> = {};
  fields.forEach((field, k) => {
    const tensor = ctx.input(k + 1);
    const w = st.floatConst(tensor, `${ctx.where} input ${k + 1}`);
    if (w.values.length !== c) ctx.fail(`${field} does not match the channels`, `[${c}]`, `dims [${w.dims.join(", ")}]`);
    values.push(w.values);
    weightNames[field] = tensor;
    st.bind({ tensor, slot: w.slot, dims: w.dims, dataType: w.dataType, node: name, field, layout: "vector" }, ctx.where);
  });
  const epsilon = ctx.float("epsilon", 1e-5);
  st.add(
    { name, op: "batchNorm", inputs: [x.node], axis: -1, epsilon, gamma: values[0], beta: values[1], mean: values[2], variance: values[3], origin: { className: ctx.op, weightNames } },
    ctx.outputs[0], [...x.shape], x.layout,
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function sameLayout(a: Value, b: Value): boolean {
  return a.layout.kind === b.layout.kind && (a.layout.kind !== "chwFlat" || sameShape(a.layout.chw, (b.layout as { chw: readonly number[] }).chw));
}

export function readAdd(ctx: NodeContext, st: ReadState): void {
  if (ctx.inputs.length !== 2) ctx.fail("Add takes two inputs", "2 inputs", `${ctx.inputs.length}`);
  for (const [i, t] of ctx.inputs.entries()) {
    if (st.isConstant(t)) ctx.fail(`input ${i} "${t}" is a constant`, "an Add of two computed tensors (a constant is read only as the bias right after a MatMul)", "a constant tensor");
  }
  const xs = ctx.inputs.map((_, i) => st.value(ctx, i));
  for (const [i, v] of xs.entries()) {
    if (!sameShape(v.shape, xs[0].shape) || !sameLayout(v, xs[0])) ctx.fail("the graph's Add does not broadcast", `inputs of one shape [N, ${xs[0].shape.join(", ")}]`, `input ${i} [N, ${v.shape.join(", ")}]`);
  }
  st.add({ name: nodeName(ctx, st), op: "add", inputs: xs.map((v) => v.node), origin: origin(ctx) }, ctx.outputs[0], [...xs[0].shape], xs[0].layout, xs.every((v) => v.nonnegative));
}

export function readConcat(ctx: NodeContext, st: ReadState): void {
  if (ctx.inputs.length < 1) ctx.fail("Concat takes inputs", "at least one input", "none");
  const xs = ctx.inputs.map((_, i) => st.value(ctx, i));
  const rank = xs[0].shape.length + 1;
  const raw = ctx.int("axis", 1);
  const axis = raw < 0 ? raw + rank : raw;
  const kind = xs[0].layout.kind;
  if (axis < 1 || axis >= rank) ctx.refuse("axis", `1..${rank - 1} (not the batch)`, raw);
  if (xs.some((v) => v.layout.kind !== kind) || kind === "chwFlat") ctx.fail("its inputs are not all plain or all images", "inputs of one layout (a flattened image cannot be concatenated in the NHWC graph)", xs.map((v) => v.layout.kind).join(", "));
  const shape = [...xs[0].shape];
  shape[axis - 1] = 0;
  for (const [i, v] of xs.entries()) {
    if (v.shape.length !== rank - 1 || v.shape.some((d, k) => k !== axis - 1 && d !== xs[0].shape[k])) ctx.fail("its inputs disagree off the axis", `input shapes like [N, ${xs[0].shape.join(", ")}]`, `input ${i} [N, ${v.shape.join(", ")}]`);
    shape[axis - 1] += v.shape[axis - 1];
  }
  // ONNX [C, H, W] axes 1, 2, 3 are the graph's [H, W, C] axes 2, 0, 1.
  const graphAxis = kind === "nchw" ? [2, 0, 1][axis - 1] : axis - 1;
  st.add({ name: nodeName(ctx, st), op: "concat", inputs: xs.map((v) => v.node), axis: graphAxis, origin: origin(ctx) }, ctx.outputs[0], shape, xs[0].layout, xs.every((v) => v.nonnegative));
}

/** Whether a model input's element type is one the graph computes (it runs in float32). */
export function isFloatType(elemType: number | undefined): boolean {
  return elemType === DataType.FLOAT || elemType === DataType.FLOAT16 || elemType === DataType.DOUBLE;
}
