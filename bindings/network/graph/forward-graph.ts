// The one forward pass over a model graph: every op once, f32 storage (f64 accumulation inside
// each op), in the graph's topological order, deterministic. Returns the graph's outputs and any
// requested intermediate signals; everything else is dropped once its last consumer has run.
import { ShapeError, ValidationError } from "../../errors.ts";
import { applyActivation } from "./activations.ts";
import { conv2dForward, depthwiseForward } from "./ops-conv.ts";
import { batchNormForward, denseForward } from "./ops-linear.ts";
import { addForward, concatForward } from "./ops-merge.ts";
import { globalAvgPoolForward, pool2dForward, upSampleForward, zeroPadForward } from "./ops-spatial.ts";
import { sizeOf } from "./shapes.ts";
import { isPrunable, type GraphNode, type ModelGraph } from "./types.ts";

export interface ForwardRequest {
  /** Nodes whose outputs to return (a prunable layer's input is its input node's output). */
  outputsOf?: readonly string[];
  /** Dense/conv nodes whose output before their activation to return. */
  preActivationOf?: readonly string[];
}

export interface GraphSignals {
  /** One per graph output, [rows, ...shape] row-major. */
  outputs: Float32Array[];
  /** The requested nodes' outputs. */
  values: Map<string, Float32Array>;
  /** The requested nodes' pre-activation outputs (the output itself when the activation is linear). */
  preActivations: Map<string, Float32Array>;
}

/**
 * Runs `graph` on `rows` samples. `inputs[i]` feeds graph.inputs[i], [rows, ...shape] row-major
 * (NHWC). Arrays returned may be shared between entries (an identity's output is its input's
 * array) and with `inputs`; none is modified.
 */
export function forwardGraph(graph: ModelGraph, inputs: readonly Float32Array[], rows: number, request: ForwardRequest = {}): GraphSignals {
  const wanted = new Set(request.outputsOf ?? []);
  const keep = new Set([...wanted, ...graph.outputs]);
  const live = new Map<string, Float32Array>();
  const preActivations = new Map<string, Float32Array>();
  for (const step of walkGraph(graph, inputs, rows, request.preActivationOf ?? [], keep)) {
    live.set(step.node.name, step.value);
    if (step.preActivation) preActivations.set(step.node.name, step.preActivation);
    for (const name of step.dropped) live.delete(name);
  }
  const values = new Map<string, Float32Array>();
  for (const name of wanted) values.set(name, live.get(name)!);
  return { outputs: graph.outputs.map((o) => live.get(o)!), values, preActivations };
}

/** One node's output in a walk; `dropped`: the nodes whose last consumer it was (outside `keep`). */
interface GraphStep {
  node: GraphNode;
  value: Float32Array;
  /** Requested in preActivationOf: the node's output before its activation. */
  preActivation?: Float32Array;
  dropped: string[];
}

/**
 * The forward pass node by node, in the graph's order: each node's output as soon as it is
 * computed, so that a caller can walk two graphs side by side without holding every signal.
 * Checks the inputs and requests as forwardGraph does.
 */
export function* walkGraph(
  graph: ModelGraph, inputs: readonly Float32Array[], rows: number, preActivationOf: readonly string[] = [], keep: ReadonlySet<string> = new Set(),
): Generator<GraphStep> {
  if (!Number.isInteger(rows) || rows < 0) throw new ValidationError("rows", "a non-negative integer", rows);
  if (!Array.isArray(inputs) || inputs.length !== graph.inputs.length) {
    throw new ValidationError("inputs", `an array of ${graph.inputs.length} Float32Array (one per graph input: ${graph.inputs.join(", ")})`, inputs);
  }
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const wantedPre = new Set(preActivationOf);
  for (const name of keep) {
    if (!nodes.has(name)) throw new ValidationError("request.outputsOf", "names of graph nodes", name);
  }
  for (const name of wantedPre) {
    const n = nodes.get(name);
    if (!n || !isPrunable(n)) throw new ValidationError("request.preActivationOf", "names of dense or conv nodes", name);
  }
  const pendingUses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) pendingUses.set(i, (pendingUses.get(i) ?? 0) + 1);

  const live = new Map<string, Float32Array>();
  for (const n of graph.nodes) {
    const args = n.inputs.map((i) => live.get(i)!);
    const argShapes = n.inputs.map((i) => nodes.get(i)!.shape);
    let out: Float32Array;
    let preActivation: Float32Array | undefined;
    if (n.op === "input") {
      const k = graph.inputs.indexOf(n.name);
      const x = inputs[k];
      const expected = rows * sizeOf(n);
      if (!(x instanceof Float32Array) || x.length !== expected) {
        throw new ShapeError(`inputs[${k}] ("${n.name}") has ${x instanceof Float32Array ? `length ${x.length}` : "no Float32Array"}: expected rows × ${sizeOf(n)} (shape [${n.shape.join(", ")}]) = ${expected}`);
      }
      out = x;
    } else if (isPrunable(n)) {
      const pre = n.op === "dense"
        ? denseForward(n, args[0], (rows * sizeOf(n)) / n.units, argShapes[0][argShapes[0].length - 1])
        : n.op === "conv2d" ? conv2dForward(n, args[0], rows, argShapes[0]) : depthwiseForward(n, args[0], rows, argShapes[0]);
      if (n.activation === "linear") out = pre;
      else {
        if (wantedPre.has(n.name)) preActivation = pre.slice();
        applyActivation(pre, n.shape[n.shape.length - 1], n.activation);
        out = pre;
      }
      if (n.activation === "linear" && wantedPre.has(n.name)) preActivation = out;
    } else {
      out = computeOp(n, args, argShapes, rows);
    }
    live.set(n.name, out);
    const dropped: string[] = [];
    for (const i of n.inputs) {
      const left = pendingUses.get(i)! - 1;
      pendingUses.set(i, left);
      if (left === 0 && !keep.has(i) && live.delete(i)) dropped.push(i);
    }
    yield { node: n, value: out, ...(preActivation ? { preActivation } : {}), dropped };
  }
}

/** Every op that has no weights to prune. */
function computeOp(n: GraphNode, args: Float32Array[], shapes: number[][], rows: number): Float32Array {
  switch (n.op) {
    case "batchNorm": return batchNormForward(n, args[0]);
    case "maxPool2d":
    case "avgPool2d": return pool2dForward(n, args[0], rows, shapes[0]);
    case "globalAvgPool2d": return globalAvgPoolForward(n, args[0], rows, shapes[0]);
    case "zeroPad2d": return zeroPadForward(n, args[0], rows, shapes[0]);
    case "upSample2d": return upSampleForward(n, args[0], rows, shapes[0]);
    case "flatten":
    case "reshape":
    case "identity": return args[0]; // NHWC row-major: the data does not move
    case "activation": {
      const out = args[0].slice();
      applyActivation(out, n.shape[n.shape.length - 1], n.activation);
      return out;
    }
    case "add": return addForward(args);
    case "concat": return concatForward(n, args, shapes, rows);
    default: throw new ShapeError(`node "${n.name}": op ${n.op} has no forward here`);
  }
}
