// Add and Concatenate over per-sample tensors.
import { concatAxis } from "./shapes.ts";
import type { ConcatNode } from "./types.ts";

/** Elementwise sum (f64, then rounded once). */
export function addForward(inputs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(inputs[0].length);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (const x of inputs) s += x[i];
    out[i] = s;
  }
  return out;
}

/** Concatenation along node.axis (per sample): each input contributes a block of size ∏ shape[axis..]. */
export function concatForward(node: ConcatNode, inputs: readonly Float32Array[], shapes: readonly (readonly number[])[], rows: number): Float32Array {
  const axis = concatAxis(node.axis, node.shape.length);
  const outer = node.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const blocks = shapes.map((s) => s.slice(axis).reduce((a, b) => a * b, 1));
  const width = blocks.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * outer * width);
  let o = 0;
  for (let r = 0; r < rows * outer; r++) {
    for (let i = 0; i < inputs.length; i++) {
      const b = blocks[i];
      out.set(inputs[i].subarray(r * b, (r + 1) * b), o);
      o += b;
    }
  }
  return out;
}
