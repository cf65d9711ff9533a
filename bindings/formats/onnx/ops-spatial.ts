// Pooling, Pad, Flatten and Reshape: ONNX's NCHW images against the graph's NHWC. A flatten of an
// image with several channels and pixels becomes the "chwFlat" layout: the graph's values are in
// H, W, C order where ONNX's are C, H, W, and the Dense after it takes its rows in that order.
import type { NodeContext } from "./node-context.ts";
import { graphPadding, readWindow, zeroPadOf } from "./padding.ts";
import type { ReadState, Value } from "./read-state.ts";
import type { ValueLayout } from "./types.ts";

function image(ctx: NodeContext, st: ReadState): Value {
  const x = st.value(ctx, 0);
  if (x.layout.kind !== "nchw") ctx.fail("it works on images", "an input [N, C, H, W]", `[N, ${x.shape.join(", ")}]`);
  return x;
}

function nodeName(ctx: NodeContext, st: ReadState): string {
  return st.uniqueName(ctx.name || ctx.outputs[0] || `${ctx.op}_${ctx.index}`);
}

export function readPool(ctx: NodeContext, st: ReadState): void {
  const x = image(ctx, st);
  const [c, h, w] = x.shape;
  const isMax = ctx.op === "MaxPool";
  if (isMax && ctx.outputs[1] && st.uses.get(ctx.outputs[1])) ctx.fail("its Indices output is used", "only the pooled values used", `output "${ctx.outputs[1]}" consumed`);
  const ks = ctx.ints("kernel_shape", []);
  if (ks.length !== 2) ctx.refuse("kernel_shape", "a 2-D window [kH, kW]", ks);
  const win = readWindow(ctx, [h, w], [ks[0], ks[1]]);
  if (win.dilations[0] !== 1 || win.dilations[1] !== 1) ctx.refuse("dilations", "[1, 1]", win.dilations);
  const countPads = !isMax && ctx.int("count_include_pad", 0) === 1;
  const name = nodeName(ctx, st);
  let input = x.node;
  let padding = graphPadding(win, [h, w]);
  // The graph's "same" max ignores padding and its "same" average divides by the cells inside.
  if (padding === "same" && countPads) padding = undefined;
  if (!padding) {
    if (isMax && !x.nonnegative) ctx.fail("its pads are not TensorFlow's \"same\" and its input may be negative", "pads [0, 0, 0, 0], \"same\" pads, or a non-negative input (after Relu)", `pads [${win.pads.join(", ")}]`);
    if (!isMax && !countPads) ctx.fail("its pads are not TensorFlow's \"same\"", "pads [0, 0, 0, 0], \"same\" pads, or count_include_pad = 1", `pads [${win.pads.join(", ")}]`);
    input = st.uniqueName(`${name}/pads`);
    st.specs.push({ name: input, op: "zeroPad2d", inputs: [x.node], pads: zeroPadOf(win) });
    padding = "valid";
  }
  st.add(
    { name, op: isMax ? "maxPool2d" : "avgPool2d", inputs: [input], poolSize: win.kernel, strides: win.strides, padding, origin: { className: ctx.op, weightNames: {} } },
    ctx.outputs[0], [c, ...win.out], { kind: "nchw" }, x.nonnegative,
  );
}

export function readGlobalAveragePool(ctx: NodeContext, st: ReadState): void {
  const x = image(ctx, st);
  st.add({ name: nodeName(ctx, st), op: "globalAvgPool2d", inputs: [x.node], keepDims: true, origin: { className: ctx.op, weightNames: {} } }, ctx.outputs[0], [x.shape[0], 1, 1], { kind: "nchw" }, x.nonnegative);
}

export function readPad(ctx: NodeContext, st: ReadState): void {
  const x = image(ctx, st);
  const mode = ctx.string("mode", "constant");
  if (mode !== "constant") ctx.refuse("mode", "constant", mode);
  const pads = st.opset < 11 ? ctx.ints("pads", []) : st.numbersConst(ctx.input(1), `${ctx.where} input pads`);
  const value = st.opset < 11 ? ctx.float("value", 0) : ctx.input(2) ? st.numbersConst(ctx.input(2), `${ctx.where} input constant_value`)[0] : 0;
  if (ctx.input(3)) ctx.fail("an axes input is not read", "pads for every axis", `axes "${ctx.input(3)}"`);
  if (value !== 0) ctx.fail("only zero padding is a graph op", "constant_value 0", String(value));
  if (pads.length !== 8 || pads.some((p) => !Number.isInteger(p) || p < 0) || pads[0] || pads[1] || pads[4] || pads[5]) {
    ctx.fail("only non-negative H and W padding is read", "pads [0, 0, top, left, 0, 0, bottom, right]", `[${pads.join(", ")}]`);
  }
  const [c, h, w] = x.shape;
  st.add(
    { name: nodeName(ctx, st), op: "zeroPad2d", inputs: [x.node], pads: [pads[2], pads[6], pads[3], pads[7]], origin: { className: ctx.op, weightNames: {} } },
    ctx.outputs[0], [c, h + pads[2] + pads[6], w + pads[3] + pads[7]], { kind: "nchw" }, x.nonnegative,
  );
}

/** The layout of `x` flattened to one axis per sample. */
function flatLayout(x: Value): ValueLayout {
  if (x.layout.kind !== "nchw") return x.layout;
  const [c, h, w] = x.shape;
  // With one channel, or one pixel, C, H, W order is H, W, C order.
  return c === 1 || h * w === 1 ? { kind: "plain" } : { kind: "chwFlat", chw: [c, h, w] };
}

function addFlatten(ctx: NodeContext, st: ReadState, x: Value): void {
  const size = x.shape.reduce((a, b) => a * b, 1);
  st.add({ name: nodeName(ctx, st), op: "flatten", inputs: [x.node], origin: { className: ctx.op, weightNames: {} } }, ctx.outputs[0], [size], flatLayout(x), x.nonnegative);
}

export function readFlatten(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  const rank = x.shape.length + 1;
  const raw = ctx.int("axis", 1);
  const axis = raw < 0 ? raw + rank : raw;
  if (axis !== 1) ctx.refuse("axis", "1 (keep the batch, flatten the rest)", raw);
  addFlatten(ctx, st, x);
}

export function readReshape(ctx: NodeContext, st: ReadState): void {
  const x = st.value(ctx, 0);
  const target = st.numbersConst(ctx.input(1), `${ctx.where} input shape`);
  const allowZero = ctx.int("allowzero", 0) === 1;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const shown = `[${target.join(", ")}]`;
  const batchOk = target[0] === -1 || (target[0] === 0 && !allowZero) || (st.batch !== undefined && target[0] === st.batch);
  if (target.length < 2 || !batchOk) ctx.fail("the first dimension must stay the batch", "a shape [0 or -1 or the batch size, ...per sample]", shown);
  const rest = target.slice(1).map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  if (target[0] === -1 && rest.includes(-1)) ctx.fail("two dimensions are -1", "at most one -1", shown);
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = rest.map((d) => (d === -1 ? size / known : d));
  if (!resolved.every((d) => Number.isInteger(d) && d >= 1) || resolved.reduce((a, b) => a * b, 1) !== size) {
    ctx.fail("the shape does not keep the values of one sample", `a shape of ${size} values per sample`, shown);
  }
  if (resolved.length === 1) return addFlatten(ctx, st, x);
  const same = resolved.length === x.shape.length && resolved.every((d, i) => d === x.shape[i]);
  if (same) {
    st.add({ name: nodeName(ctx, st), op: "identity", inputs: [x.node], origin: { className: ctx.op, weightNames: {} } }, ctx.outputs[0], [...x.shape], x.layout, x.nonnegative);
    return;
  }
  if (x.layout.kind !== "plain" || resolved.length === 3) {
    ctx.fail("reshaping images (or into images) would need a transpose in the NHWC graph", "a flatten to [N, features] or a reshape of non-image data", `${shown} of [N, ${x.shape.join(", ")}]`);
  }
  st.add({ name: nodeName(ctx, st), op: "reshape", inputs: [x.node], targetShape: resolved, origin: { className: ctx.op, weightNames: {} } }, ctx.outputs[0], resolved, { kind: "plain" }, x.nonnegative);
}
