// Output shapes of every op from its input shapes (per sample, NHWC, batch excluded), and the
// weight lengths each op needs. Padding "same" follows TensorFlow: out = ⌈in/stride⌉, the total
// padding max((out − 1)·stride + effective kernel − in, 0), the smaller half before.
import { GraphError } from "../../errors.ts";
import type { GraphNode, GraphNodeSpec, Pair, Padding2D } from "./types.ts";

interface Window1D {
  out: number;
  /** Padding before the first input cell. */
  padBefore: number;
}

/** One spatial axis of a conv/pool window: kernel k, stride s, dilation d. */
export function window1D(input: number, k: number, s: number, d: number, padding: Padding2D): Window1D {
  const effective = (k - 1) * d + 1;
  if (padding === "valid") return { out: input >= effective ? Math.floor((input - effective) / s) + 1 : 0, padBefore: 0 };
  const out = Math.ceil(input / s);
  const total = Math.max((out - 1) * s + effective - input, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function fail(node: GraphNodeSpec, message: string): never {
  throw new GraphError(node.name, node.op, message);
}

function positivePair(node: GraphNodeSpec, field: string, p: Pair): void {
  if (!(Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 1))) {
    throw new GraphError(node.name, node.op, `${field}: expected two positive integers, received ${JSON.stringify(p)}`, "invalid_option");
  }
}

function positiveInteger(node: GraphNodeSpec, field: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new GraphError(node.name, node.op, `${field}: expected a positive integer, received ${v}`, "invalid_option");
}

function checkLength(node: GraphNodeSpec, field: string, array: Float32Array | null, expected: number, what: string): void {
  if (array === null) return;
  if (!(array instanceof Float32Array)) throw new GraphError(node.name, node.op, `${field}: expected a Float32Array, received ${typeof array}`, "invalid_option");
  if (array.length !== expected) fail(node, `${field} has ${array.length} values: expected ${what} = ${expected}`);
}

function spatialInput(node: GraphNodeSpec, input: number[]): [number, number, number] {
  if (input.length !== 3) fail(node, `expected an input of rank 3 per sample [height, width, channels], received ${shapeText(input)}`);
  return [input[0], input[1], input[2]];
}

function spatialOut(node: GraphNodeSpec, h: number, w: number, k: Pair, s: Pair, d: Pair, padding: Padding2D): [number, number] {
  const oh = window1D(h, k[0], s[0], d[0], padding).out;
  const ow = window1D(w, k[1], s[1], d[1], padding).out;
  if (oh < 1 || ow < 1) fail(node, `a ${k[0]}×${k[1]} window (dilation ${d[0]}×${d[1]}, padding ${padding}) does not fit the ${h}×${w} input`);
  return [oh, ow];
}

/** The output shape of `node` given its inputs' shapes; checks its attributes and weight lengths. */
export function inferShape(node: GraphNodeSpec, inputs: number[][]): number[] {
  const arity = node.op === "input" ? 0 : node.op === "add" || node.op === "concat" ? -1 : 1;
  if (arity >= 0 && inputs.length !== arity) fail(node, `expected ${arity} input(s), received ${inputs.length}`);
  if (arity < 0 && inputs.length < 1) fail(node, "expected at least one input, received none");
  const x = inputs[0];
  switch (node.op) {
    case "input": {
      const s = node.shape;
      if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 1)) fail(node, `shape: expected positive integers, received ${JSON.stringify(s)}`);
      return [...s];
    }
    case "dense": {
      positiveInteger(node, "units", node.units);
      if (x.length < 1) fail(node, "expected an input of rank ≥ 1 per sample, received a scalar");
      const n = x[x.length - 1];
      checkLength(node, "kernel", node.kernel, n * node.units, `inputs × units = ${n} × ${node.units}`);
      checkLength(node, "bias", node.bias, node.units, "units");
      return [...x.slice(0, -1), node.units];
    }
    case "conv2d":
    case "depthwiseConv2d": {
      const [h, w, c] = spatialInput(node, x);
      positiveInteger(node, node.op === "conv2d" ? "filters" : "depthMultiplier", node.op === "conv2d" ? node.filters : node.depthMultiplier);
      positivePair(node, "kernelSize", node.kernelSize);
      positivePair(node, "strides", node.strides);
      positivePair(node, "dilation", node.dilation);
      const [kh, kw] = node.kernelSize;
      const outC = node.op === "conv2d" ? node.filters : c * node.depthMultiplier;
      const last = node.op === "conv2d" ? node.filters : node.depthMultiplier;
      checkLength(node, "kernel", node.kernel, kh * kw * c * last, `[${kh}, ${kw}, ${c}, ${last}] →`);
      checkLength(node, "bias", node.bias, outC, "output channels");
      return [...spatialOut(node, h, w, node.kernelSize, node.strides, node.dilation, node.padding), outC];
    }
    case "batchNorm": {
      if (node.axis !== -1 && node.axis !== x.length - 1) {
        throw new GraphError(node.name, node.op, `axis: only the last axis (channels) is normalised: expected -1 or ${x.length - 1}, received ${node.axis}`, "invalid_option");
      }
      const c = x[x.length - 1];
      for (const f of ["gamma", "beta", "mean", "variance"] as const) checkLength(node, f, node[f], c, "channels (the last axis)");
      if (!(typeof node.epsilon === "number" && Number.isFinite(node.epsilon) && node.epsilon >= 0)) throw new GraphError(node.name, node.op, `epsilon: expected a number ≥ 0, received ${node.epsilon}`, "invalid_option");
      return [...x];
    }
    case "maxPool2d":
    case "avgPool2d": {
      const [h, w, c] = spatialInput(node, x);
      positivePair(node, "poolSize", node.poolSize);
      positivePair(node, "strides", node.strides);
      return [...spatialOut(node, h, w, node.poolSize, node.strides, [1, 1], node.padding), c];
    }
    case "globalAvgPool2d": {
      const [, , c] = spatialInput(node, x);
      return node.keepDims ? [1, 1, c] : [c];
    }
    case "flatten":
      return [product(x)];
    case "reshape": {
      const t = node.targetShape;
      const free = t.filter((d) => d === -1).length;
      if (free > 1 || !t.every((d) => d === -1 || (Number.isInteger(d) && d >= 1))) {
        throw new GraphError(node.name, node.op, `targetShape: expected positive integers and at most one -1, received ${shapeText(t)}`, "invalid_option");
      }
      const known = product(t.filter((d) => d !== -1));
      const total = product(x);
      const out = t.map((d) => (d === -1 ? total / known : d));
      if (product(out) !== total || !out.every(Number.isInteger)) fail(node, `cannot reshape ${shapeText(x)} (${total} values) to ${shapeText(t)}`);
      return out;
    }
    case "zeroPad2d": {
      const [h, w, c] = spatialInput(node, x);
      const p = node.pads;
      if (!(p.length === 4 && p.every((v) => Number.isInteger(v) && v >= 0))) {
        throw new GraphError(node.name, node.op, `pads: expected four integers ≥ 0, received ${JSON.stringify(p)}`, "invalid_option");
      }
      return [h + p[0] + p[1], w + p[2] + p[3], c];
    }
    case "upSample2d": {
      const [h, w, c] = spatialInput(node, x);
      positivePair(node, "size", node.size);
      return [h * node.size[0], w * node.size[1], c];
    }
    case "activation":
      if (node.axis !== undefined && node.axis !== -1 && node.axis !== x.length - 1) {
        throw new GraphError(node.name, node.op, `axis: only the last axis is computed: expected -1 or ${x.length - 1}, received ${node.axis}`, "invalid_option");
      }
      return [...x];
    case "identity":
      return [...x];
    case "add": {
      for (const [i, s] of inputs.entries()) {
        if (shapeText(s) !== shapeText(x)) fail(node, `every input must have the shape of the first, ${shapeText(x)}: input ${i} ("${node.inputs[i]}") has ${shapeText(s)}`);
      }
      return [...x];
    }
    case "concat": {
      const axis = concatAxis(node.axis, x.length);
      if (!(Number.isInteger(axis) && axis >= 0 && axis < x.length)) {
        throw new GraphError(node.name, node.op, `axis: expected ${-x.length}..${x.length - 1} (per sample, batch excluded), received ${node.axis}`, "invalid_option");
      }
      let along = 0;
      for (const [i, s] of inputs.entries()) {
        const same = s.length === x.length && s.every((d, k) => k === axis || d === x[k]);
        if (!same) fail(node, `inputs must agree on every axis but ${axis}: input 0 has ${shapeText(x)}, input ${i} ("${node.inputs[i]}") has ${shapeText(s)}`);
        along += s[axis];
      }
      const out = [...x];
      out[axis] = along;
      return out;
    }
  }
}

/** A per-sample axis with negatives counted from the end. */
export function concatAxis(axis: number, rank: number): number {
  return axis < 0 ? rank + axis : axis;
}

/** Values per sample of a node's output. */
export function sizeOf(node: GraphNode): number {
  return product(node.shape);
}
