// The ONNX nodes that become the graph's prunable nodes: Gemm and MatMul (+ the Add of its bias)
// → dense, Conv → conv2d or depthwiseConv2d (with a zeroPad2d before it when its pads are not
// TensorFlow's "same"). Weights are converted to the graph's layouts and bound for the writer.
import type { GraphNodeSpec } from "../../network/graph/types.ts";
import { chwToHwcOrder, toGraphWeight } from "./layouts.ts";
import type { NodeContext } from "./node-context.ts";
import { graphPadding, readWindow, zeroPadOf } from "./padding.ts";
import type { FloatConst, ReadState, Value } from "./read-state.ts";
import type { WeightBinding } from "./types.ts";

function nodeName(ctx: NodeContext, st: ReadState): string {
  return st.uniqueName(ctx.name || ctx.outputs[0] || `${ctx.op}_${ctx.index}`);
}

function bindWeight(st: ReadState, ctx: NodeContext, tensor: string, c: FloatConst, b: Omit<WeightBinding, "tensor" | "slot" | "dims" | "dataType">): void {
  st.bind({ tensor, slot: c.slot, dims: c.dims, dataType: c.dataType, ...b }, ctx.where);
}

/** The rows order of a Dense fed by `x`: a flattened NCHW image is held H, W, C by the graph. */
function rowOrderOf(x: Value): Int32Array | undefined {
  return x.layout.kind === "chwFlat" ? chwToHwcOrder(...x.layout.chw) : undefined;
}

/** A bias tensor of `units` values, or one value broadcast ([units], [1, units], [1], []). */
function biasValues(ctx: NodeContext, c: FloatConst, units: number, what: string): Float32Array {
  const n = c.values.length;
  const shapeOk = c.dims.length <= 2 && (c.dims.length < 2 || c.dims[0] === 1);
  if (!shapeOk || (n !== units && n !== 1)) ctx.fail(`${what} does not broadcast to one value per unit`, `[${units}], [1, ${units}] or a single value`, `dims [${c.dims.join(", ")}]`);
  return n === units ? c.values : new Float32Array(units).fill(c.values[0]);
}

function denseInput(ctx: NodeContext, st: ReadState): Value {
  const x = st.value(ctx, 0);
  if (x.layout.kind === "nchw") ctx.fail("its input is a 4-D image", "a flattened input (Flatten or Reshape before it)", `[N, ${x.shape.join(", ")}]`);
  return x;
}

export function readGemm(ctx: NodeContext, st: ReadState): void {
  const x = denseInput(ctx, st);
  if (ctx.int("transA", 0) !== 0) ctx.refuse("transA", "0 (samples are A's rows)", ctx.int("transA", 0));
  if (x.shape.length !== 1) ctx.fail("Gemm multiplies matrices", "an input [N, features]", `[N, ${x.shape.join(", ")}]`);
  const transB = ctx.int("transB", 0) !== 0;
  const alpha = ctx.float("alpha", 1), beta = ctx.float("beta", 1);
  const B = st.floatConst(ctx.input(1), `${ctx.where} input B`);
  if (B.dims.length !== 2) ctx.fail("B must be a matrix", "B of rank 2", `dims [${B.dims.join(", ")}]`);
  const [inputs, units] = transB ? [B.dims[1], B.dims[0]] : B.dims;
  if (inputs !== x.shape[0]) ctx.fail("B does not match the input", `B with ${x.shape[0]} inputs (transB = ${transB ? 1 : 0})`, `dims [${B.dims.join(", ")}]`);
  const name = nodeName(ctx, st);
  const layout = transB ? "denseCols" : "denseRows";
  const rowOrder = rowOrderOf(x);
  const kernel = toGraphWeight(B.values, layout, B.dims, rowOrder, alpha);
  bindWeight(st, ctx, ctx.input(1), B, { node: name, field: "kernel", layout, rowOrder, ...(alpha !== 1 ? { scaledBy: { node: ctx.index, attribute: "alpha", scale: alpha } } : {}) });
  const weightNames: Record<string, string> = { kernel: ctx.input(1) };
  let bias: Float32Array | null = null;
  if (ctx.input(2)) {
    const C = st.floatConst(ctx.input(2), `${ctx.where} input C`);
    bias = biasValues(ctx, C, units, "C").map((v) => v * beta);
    bindWeight(st, ctx, ctx.input(2), C, { node: name, field: "bias", layout: "vector", ...(beta !== 1 ? { scaledBy: { node: ctx.index, attribute: "beta", scale: beta } } : {}) });
    weightNames.bias = ctx.input(2);
  }
  st.add({ name, op: "dense", inputs: [x.node], units, activation: "linear", kernel, bias, origin: { className: "Gemm", weightNames } }, ctx.outputs[0], [units], { kind: "plain" });
}

/** The Add node that adds a constant [units] bias to `tensor` as its only use, if there is one. */
function biasAdd(st: ReadState, tensor: string, units: number): { index: number; bias: string; output: string } | undefined {
  const users = st.consumers.get(tensor) ?? [];
  if (users.length !== 1 || st.uses.get(tensor) !== 1) return undefined;
  const add = st.nodes[users[0]];
  if (add.op_type !== "Add" || (add.domain ?? "") !== "" || (add.input ?? []).length !== 2) return undefined;
  const other = add.input![0] === tensor ? add.input![1] : add.input![0];
  const c = st.constants.get(other)?.tensor;
  if (!c) return undefined;
  const dims = (c.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== units || dims.length > 2 || dims.slice(0, -1).some((d) => d !== 1)) return undefined;
  return { index: users[0], bias: other, output: add.output![0] };
}

export function readMatMul(ctx: NodeContext, st: ReadState): void {
  const x = denseInput(ctx, st);
  const B = st.floatConst(ctx.input(1), `${ctx.where} input B`);
  if (B.dims.length !== 2) ctx.fail("only a matrix of weights is read", "B of rank 2 [in, units]", `dims [${B.dims.join(", ")}]`);
  const [inputs, units] = B.dims;
  if (inputs !== x.shape[x.shape.length - 1]) ctx.fail("B does not match the input", `B with ${x.shape[x.shape.length - 1]} rows`, `dims [${B.dims.join(", ")}]`);
  const name = nodeName(ctx, st);
  const rowOrder = rowOrderOf(x);
  const kernel = toGraphWeight(B.values, "denseRows", B.dims, rowOrder);
  bindWeight(st, ctx, ctx.input(1), B, { node: name, field: "kernel", layout: "denseRows", rowOrder });
  const weightNames: Record<string, string> = { kernel: ctx.input(1) };
  let bias: Float32Array | null = null;
  let output = ctx.outputs[0];
  const add = biasAdd(st, output, units);
  if (add) {
    const C = st.floatConst(add.bias, `${ctx.where} bias "${add.bias}"`);
    bias = C.values;
    bindWeight(st, ctx, add.bias, C, { node: name, field: "bias", layout: "vector" });
    weightNames.bias = add.bias;
    st.fused.add(add.index);
    output = add.output;
  }
  const shape = [...x.shape.slice(0, -1), units];
  st.add({ name, op: "dense", inputs: [x.node], units, activation: "linear", kernel, bias, origin: { className: add ? "MatMul+Add" : "MatMul", weightNames } }, output, shape, { kind: "plain" });
}

export function readConv(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  if (x.layout.kind !== "nchw") ctx.fail("only 2-D convolutions are read", "an input [N, C, H, W]", `[N, ${x.shape.join(", ")}]`);
  const [c, h, w] = x.shape;
  const W = st.floatConst(ctx.input(1), `${ctx.where} input W`);
  if (W.dims.length !== 4) ctx.fail("only 2-D convolutions are read", "W of rank 4 [M, C/group, kH, kW]", `dims [${W.dims.join(", ")}]`);
  const [m, perGroup, kh, kw] = W.dims;
  const group = ctx.int("group", 1);
  const depthwise = group !== 1;
  if (depthwise && !(group === c && perGroup === 1 && m % c === 0)) {
    ctx.refuse("group", `1 or the input channels ${c} (a depthwise conv, W [C·multiplier, 1, kH, kW])`, `${group} with W [${W.dims.join(", ")}]`);
  }
  if (!depthwise && perGroup !== c) ctx.fail("W does not match the input", `W [M, ${c}, kH, kW]`, `dims [${W.dims.join(", ")}]`);
  const ks = ctx.ints("kernel_shape", [kh, kw]);
  if (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw) ctx.refuse("kernel_shape", `[${kh}, ${kw}] (W's)`, ks);
  const win = readWindow(ctx, [h, w], [kh, kw]);
  const name = nodeName(ctx, st);
  let input = x.node;
  let padding = graphPadding(win, [h, w]);
  if (!padding) {
    input = st.uniqueName(`${name}/pads`);
    st.specs.push({ name: input, op: "zeroPad2d", inputs: [x.node], pads: zeroPadOf(win) });
    padding = "valid";
  }
  const layout = depthwise ? "depthwise" : "conv";
  const kernel = toGraphWeight(W.values, layout, W.dims);
  bindWeight(st, ctx, ctx.input(1), W, { node: name, field: "kernel", layout });
  const weightNames: Record<string, string> = { kernel: ctx.input(1) };
  let bias: Float32Array | null = null;
  if (ctx.input(2)) {
    const B = st.floatConst(ctx.input(2), `${ctx.where} input B`);
    if (B.values.length !== m) ctx.fail("B does not match W", `B [${m}]`, `dims [${B.dims.join(", ")}]`);
    bias = B.values;
    bindWeight(st, ctx, ctx.input(2), B, { node: name, field: "bias", layout: "vector" });
    weightNames.bias = ctx.input(2);
  }
  const common = { name, inputs: [input], kernelSize: [kh, kw] as const, strides: win.strides, padding, dilation: win.dilations, activation: "linear" as const, bias, origin: { className: "Conv", weightNames } };
  const spec: GraphNodeSpec = depthwise
    ? { ...common, op: "depthwiseConv2d", depthMultiplier: m / c, kernel }
    : { ...common, op: "conv2d", filters: m, kernel };
  st.add(spec, ctx.outputs[0], [m, ...win.out], { kind: "nchw" });
}
