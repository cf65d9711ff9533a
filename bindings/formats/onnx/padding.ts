// ONNX conv/pool padding (explicit pads or auto_pad) against the graph's two paddings: "valid"
// (none) and TensorFlow's "same" (total max((out − 1)·s + k_eff − in, 0), the smaller half before).
// Pads that are neither become an explicit zeroPad2d node before a "valid" window where that is
// exact (conv, average pooling that counts the padding, max pooling of non-negative values).
import { window1D } from "../../network/graph/shapes.ts";
import type { NodeContext } from "./node-context.ts";

interface WindowSpec {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right] as ONNX orders them. */
  pads: [number, number, number, number];
  out: [number, number];
}

function out1D(input: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const span = input + before + after - ((k - 1) * d + 1);
  return (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
}

/** Reads kernel_shape, strides, dilations, pads / auto_pad and ceil_mode of a 2-D window. */
export function readWindow(ctx: NodeContext, input: [number, number], kernel: [number, number]): WindowSpec {
  const pair = (name: string, def: number[]): [number, number] => {
    const v = ctx.ints(name, def);
    if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1)) ctx.refuse(name, "two positive integers (a 2-D window)", v);
    return [v[0], v[1]];
  };
  const strides = pair("strides", [1, 1]);
  const dilations = pair("dilations", [1, 1]);
  const autoPad = ctx.string("auto_pad", "NOTSET");
  let pads = ctx.ints("pads", [0, 0, 0, 0]);
  if (pads.length !== 4 || !pads.every((x) => Number.isInteger(x) && x >= 0)) ctx.refuse("pads", "four integers ≥ 0 [top, left, bottom, right]", pads);
  if (autoPad === "VALID") pads = [0, 0, 0, 0];
  else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const p: number[] = [0, 0, 0, 0];
    for (const a of [0, 1]) {
      const out = Math.ceil(input[a] / strides[a]);
      const total = Math.max((out - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - input[a], 0);
      const small = Math.floor(total / 2);
      p[a] = autoPad === "SAME_UPPER" ? small : total - small;
      p[a + 2] = total - p[a];
    }
    pads = p;
  } else if (autoPad !== "NOTSET") ctx.refuse("auto_pad", "NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad);
  const ceil = ctx.int("ceil_mode", 0) === 1;
  const out: [number, number] = [0, 0];
  for (const a of [0, 1]) {
    out[a] = out1D(input[a], kernel[a], strides[a], dilations[a], pads[a], pads[a + 2], false);
    if (ceil && out1D(input[a], kernel[a], strides[a], dilations[a], pads[a], pads[a + 2], true) !== out[a]) {
      ctx.refuse("ceil_mode", "0, or 1 where rounding up gives the same output size", `1, which adds a partial window on axis ${a === 0 ? "H" : "W"}`);
    }
    if (out[a] < 1) ctx.fail("the window does not fit the input", `an input of at least the window's size`, `${input[0]}×${input[1]} for a ${kernel[0]}×${kernel[1]} window`);
  }
  return { kernel, strides, dilations, pads: [pads[0], pads[1], pads[2], pads[3]], out };
}

/** Whether the window's pads and output size are exactly TensorFlow's "same" (or "valid"). */
export function graphPadding(w: WindowSpec, input: [number, number]): "same" | "valid" | undefined {
  if (w.pads.every((p) => p === 0)) return "valid";
  for (const a of [0, 1]) {
    const tf = window1D(input[a], w.kernel[a], w.strides[a], w.dilations[a], "same");
    const total = Math.max((tf.out - 1) * w.strides[a] + (w.kernel[a] - 1) * w.dilations[a] + 1 - input[a], 0);
    if (tf.out !== w.out[a] || tf.padBefore !== w.pads[a] || total - tf.padBefore !== w.pads[a + 2]) return undefined;
  }
  return "same";
}

/** The graph's zeroPad2d order [top, bottom, left, right] of ONNX's [top, left, bottom, right]. */
export function zeroPadOf(w: WindowSpec): [number, number, number, number] {
  return [w.pads[0], w.pads[2], w.pads[1], w.pads[3]];
}
