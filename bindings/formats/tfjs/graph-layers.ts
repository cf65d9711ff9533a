// One Keras / TF.js layer config → one graph node (op and typed attributes; weights by role).
// Layers outside the op set, and settings the forward pass does not compute (channels_first,
// groups > 1, bilinear upsampling, leaky relu, ...), are refused naming the layer, class and why.
import type { GraphActivation, GraphNodeSpec, Pair } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { hasOwn, show, type Json } from "../json-helpers.ts";
import { activationName, layerWhere, type RawLayer } from "./topology.ts";
import type { ConnectedLayer } from "./graph-topology.ts";

/** A weight role in the manifest (the name's last part) → the node's field. */
export const ROLE_FIELD: Record<string, string> = {
  kernel: "kernel", depthwise_kernel: "kernel", bias: "bias",
  gamma: "gamma", beta: "beta", moving_mean: "mean", moving_variance: "variance",
};

const ACTIVATIONS: readonly GraphActivation[] = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax"];

const WHY_NOT: Record<string, string> = {
  Lambda: "a Lambda layer runs arbitrary code that is not stored in the file",
  Conv1D: "1-D convolutions are not in the op set", Conv3D: "3-D convolutions are not in the op set",
  SeparableConv2D: "separable convolutions are not in the op set (a depthwise then a 1×1 Conv2D is)",
  Conv2DTranspose: "transposed convolutions are not in the op set",
  LayerNormalization: "layer normalisation is not in the op set",
  LeakyReLU: "a leaky relu is not in the op set (relu, relu6, linear, sigmoid, tanh, softmax are)",
  PReLU: "a parametric relu is not in the op set", ELU: "elu is not in the op set",
  Multiply: "elementwise products are not in the op set (Add and Concatenate are)",
  Average: "this merge is not in the op set (Add and Concatenate are)",
  Maximum: "this merge is not in the op set", Minimum: "this merge is not in the op set", Subtract: "this merge is not in the op set",
  GlobalMaxPooling2D: "global max pooling is not in the op set", Cropping2D: "cropping is not in the op set",
  Embedding: "embeddings are not in the op set", LSTM: "recurrent layers are not in the op set", GRU: "recurrent layers are not in the op set",
  SimpleRNN: "recurrent layers are not in the op set", Permute: "Permute is not in the op set",
};

const SUPPORTED = "Dense, Conv2D, DepthwiseConv2D, BatchNormalization, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, ZeroPadding2D, UpSampling2D, Dropout (and SpatialDropout2D, GaussianNoise, GaussianDropout, AlphaDropout), Activation, ReLU, Softmax, Add, Concatenate or InputLayer";

function refuse(l: RawLayer, reason: string, expected: string, received: unknown): never {
  throw new ModelFormatError({ where: layerWhere(l), layer: l.name, className: l.className, reason, expected, received: typeof received === "string" ? received : show(received) });
}

/** The manifest roles a layer's weights take, in Keras order. */
export function weightRoles(l: RawLayer): string[] {
  const c = l.config;
  switch (l.className) {
    case "Dense":
    case "Conv2D": return c.use_bias === false ? ["kernel"] : ["kernel", "bias"];
    case "DepthwiseConv2D": return c.use_bias === false ? ["depthwise_kernel"] : ["depthwise_kernel", "bias"];
    case "BatchNormalization":
      return [...(c.scale === false ? [] : ["gamma"]), ...(c.center === false ? [] : ["beta"]), "moving_mean", "moving_variance"];
    default: return [];
  }
}

function activation(l: RawLayer, v: unknown): GraphActivation {
  const name = activationName(v);
  if (!(ACTIVATIONS as readonly string[]).includes(name)) refuse(l, "this activation is not in the op set", ACTIVATIONS.join(", "), `"${name}"`);
  return name as GraphActivation;
}

function pair(l: RawLayer, field: string, fallback?: Pair): Pair {
  const v = l.config[field];
  if ((v === undefined || v === null) && fallback) return fallback;
  if (Number.isInteger(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger)) return [v[0], v[1]];
  return refuse(l, `${field} must be an integer or two`, "an integer or [height, width]", v);
}

function channelsLast(l: RawLayer): void {
  const f = l.config.data_format;
  if (f !== undefined && f !== null && f !== "channels_last") {
    refuse(l, "only NHWC tensors are computed (channels_first would need a transpose this forward pass does not do)", 'data_format "channels_last"', f);
  }
}

function padding(l: RawLayer): "same" | "valid" {
  const p = l.config.padding;
  if (p === "same" || p === "valid") return p;
  return refuse(l, "unsupported padding", '"same" or "valid"', p);
}

function zeroPads(l: RawLayer): [number, number, number, number] {
  const p = l.config.padding;
  if (Number.isInteger(p)) return [p as number, p as number, p as number, p as number];
  if (Array.isArray(p) && p.length === 2) {
    if (p.every(Number.isInteger)) return [p[0], p[0], p[1], p[1]];
    if (p.every((x) => Array.isArray(x) && x.length === 2 && x.every(Number.isInteger))) return [p[0][0], p[0][1], p[1][0], p[1][1]];
  }
  return refuse(l, "unreadable padding", "an integer, [h, w] or [[top, bottom], [left, right]]", p);
}

/** The per-sample axis (negative from the end) of a Keras axis, which counts the batch as axis 0. */
function sampleAxis(l: RawLayer, fallback: number): number {
  let a = l.config.axis ?? fallback;
  if (Array.isArray(a) && a.length === 1) a = a[0];
  if (Number.isInteger(a) && (a as number) < 0) return a as number;
  if (Number.isInteger(a) && (a as number) >= 1) return (a as number) - 1;
  return refuse(l, "the axis must be a single axis after the batch", "-1 or an integer ≥ 1", l.config.axis);
}

/** The node for one layer; `weight(role)` gives the decoded weight of a role from weightRoles(l). */
export function layerNode(l: ConnectedLayer, weight: (role: string) => Float32Array): GraphNodeSpec {
  const c: Json = l.config;
  const base = { name: l.name, inputs: l.inbound };
  const has = (role: string) => weightRoles(l).includes(role);
  switch (l.className) {
    case "InputLayer": {
      const b = c.batch_input_shape ?? c.batch_shape;
      if (!Array.isArray(b) || b.length < 2 || !b.slice(1).every((d) => Number.isInteger(d) && (d as number) >= 1)) {
        refuse(l, "every dimension after the batch must be known", "batch_input_shape [null, d1, ...] with positive integers", b);
      }
      if (c.sparse === true || c.ragged === true) refuse(l, "sparse and ragged inputs are not supported", "dense input", "sparse or ragged");
      return { ...base, op: "input", shape: (b as number[]).slice(1) };
    }
    case "Dense":
      return { ...base, op: "dense", units: c.units as number, activation: activation(l, c.activation), kernel: weight("kernel"), bias: has("bias") ? weight("bias") : null };
    case "Conv2D":
    case "DepthwiseConv2D": {
      channelsLast(l);
      if (c.groups !== undefined && c.groups !== null && c.groups !== 1) refuse(l, "grouped convolutions are not supported", "groups 1", c.groups);
      if (l.className === "DepthwiseConv2D" && pair(l, "dilation_rate", [1, 1]).some((d) => d !== 1)) {
        // tfjs-layers 4.22 passes no dilation to its depthwise kernel; Keras applies it: the file means two things.
        refuse(l, "a dilated DepthwiseConv2D is computed differently by TF.js (which ignores dilation_rate) and Keras", "dilation_rate [1, 1]", c.dilation_rate);
      }
      const common = {
        kernelSize: pair(l, "kernel_size"), strides: pair(l, "strides", [1, 1]), padding: padding(l),
        dilation: pair(l, "dilation_rate", [1, 1]), activation: activation(l, c.activation), bias: has("bias") ? weight("bias") : null,
      };
      if (l.className === "Conv2D") return { ...base, ...common, op: "conv2d", filters: c.filters as number, kernel: weight("kernel") };
      return { ...base, ...common, op: "depthwiseConv2d", depthMultiplier: (c.depth_multiplier ?? 1) as number, kernel: weight("depthwise_kernel") };
    }
    case "BatchNormalization": {
      if (c.renorm === true) refuse(l, "batch renormalisation is not supported", "renorm false", c.renorm);
      return {
        ...base, op: "batchNorm", axis: sampleAxis(l, -1), epsilon: (c.epsilon ?? 1e-3) as number,
        gamma: has("gamma") ? weight("gamma") : null, beta: has("beta") ? weight("beta") : null,
        mean: weight("moving_mean"), variance: weight("moving_variance"),
      };
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      channelsLast(l);
      const poolSize = pair(l, "pool_size", [2, 2]);
      return { ...base, op: l.className === "MaxPooling2D" ? "maxPool2d" : "avgPool2d", poolSize, strides: pair(l, "strides", poolSize), padding: padding(l) };
    }
    case "GlobalAveragePooling2D":
      channelsLast(l);
      return { ...base, op: "globalAvgPool2d", keepDims: c.keepdims === true };
    case "Flatten":
      channelsLast(l);
      return { ...base, op: "flatten" };
    case "Reshape": {
      const t = c.target_shape;
      if (!Array.isArray(t) || !t.every(Number.isInteger)) refuse(l, "unreadable target_shape", "a list of integers", t);
      return { ...base, op: "reshape", targetShape: t as number[] };
    }
    case "ZeroPadding2D":
      channelsLast(l);
      return { ...base, op: "zeroPad2d", pads: zeroPads(l) };
    case "UpSampling2D":
      channelsLast(l);
      if (c.interpolation !== undefined && c.interpolation !== "nearest") refuse(l, "only nearest-neighbour upsampling is computed", 'interpolation "nearest"', c.interpolation);
      return { ...base, op: "upSample2d", size: pair(l, "size", [2, 2]) };
    case "Dropout":
    case "SpatialDropout2D":
    case "GaussianNoise":
    case "GaussianDropout":
    case "AlphaDropout":
      return { ...base, op: "identity" }; // noise and dropout act only in training
    case "Activation":
      return { ...base, op: "activation", activation: activation(l, c.activation) };
    case "ReLU": {
      const max = c.max_value ?? null, slope = c.negative_slope ?? 0, threshold = c.threshold ?? 0;
      if (slope !== 0 || threshold !== 0 || (max !== null && max !== 6)) {
        refuse(l, "only relu and relu6 are in the op set", "max_value null or 6, negative_slope 0, threshold 0", `max_value ${show(max)}, negative_slope ${show(slope)}, threshold ${show(threshold)}`);
      }
      return { ...base, op: "activation", activation: max === 6 ? "relu6" : "relu" };
    }
    case "Softmax":
      return { ...base, op: "activation", activation: "softmax", axis: sampleAxis(l, -1) };
    case "Add":
      return { ...base, op: "add" };
    case "Concatenate":
      return { ...base, op: "concat", axis: sampleAxis(l, -1) };
    default:
      return refuse(l, (hasOwn(WHY_NOT, l.className) ? WHY_NOT[l.className] : undefined) ?? `${l.className} is not in the op set`, SUPPORTED, `a ${l.className} layer`);
  }
}
