// Which weights are zero, per layer: for masked fine-tuning in TF.js (the zeros stay zeros).
import type { DenseNetwork } from "../network/network.ts";
import { isPrunable, type ModelGraph, type PrunableNode } from "../network/graph/types.ts";
import { ModelFormatError } from "./model-format-error.ts";
import { isObject, show } from "./json-helpers.ts";
import { checkJsonDepth } from "./json-depth.ts";

// ---------------------------------------------------------------------------------------------
// Masks

export interface LayerMask {
  name: string;
  /** [inputs, units] row-major; 1 = weight kept (nonzero), 0 = pruned. */
  mask: Uint8Array;
  /** [units]; 1 = bias nonzero. All zeros when use_bias is false. */
  biasMask: Uint8Array;
  inputs: number;
  units: number;
}

/** Which weights are nonzero, per layer. */
export function masksOf(network: DenseNetwork): LayerMask[] {
  return network.layers.map((l) => {
    const mask = new Uint8Array(l.kernel.length);
    for (let i = 0; i < mask.length; i++) mask[i] = l.kernel[i] !== 0 ? 1 : 0;
    const biasMask = new Uint8Array(l.units);
    if (l.useBias) for (let i = 0; i < l.units; i++) biasMask[i] = l.bias[i] !== 0 ? 1 : 0;
    return { name: l.name, mask, biasMask, inputs: l.inputs, units: l.units };
  });
}

/**
 * JSON form of the masks, for fine-tuning in TF.js without losing the zeros: per layer, `kernel` is a
 * flat row-major 0/1 array of shape `kernelShape` ([inputs, units], the Dense kernel layout), so
 * `tf.tensor(m.kernel, m.kernelShape)` multiplied into the layer's kernel after every optimizer step
 * keeps the pruned weights at zero. `weights` names the manifest weights the masks apply to.
 */
export interface MasksJson {
  format: "net-trim-masks";
  version: 1;
  layers: {
    name: string;
    /** Graph masks only: "conv2d" or "depthwiseConv2d" (absent: a Dense layer). */
    op?: PrunableNode["op"];
    weights: { kernel: string; bias?: string };
    /** [inputs, units] (Dense); [kh, kw, inC, filters] (Conv2D); [kh, kw, inC, multiplier] (depthwise). */
    kernelShape: number[];
    kernel: number[];
    bias: number[];
    nnz: number;
  }[];
}

export function masksToJson(network: DenseNetwork): MasksJson {
  return {
    format: "net-trim-masks",
    version: 1,
    layers: masksOf(network).map((m, i) => {
      let nnz = 0;
      for (let k = 0; k < m.mask.length; k++) nnz += m.mask[k];
      const names = network.source?.weightNames[i] ?? { kernel: `${m.name}/kernel`, bias: network.layers[i].useBias ? `${m.name}/bias` : undefined };
      return {
        name: m.name,
        weights: names.bias ? { kernel: names.kernel, bias: names.bias } : { kernel: names.kernel },
        kernelShape: [m.inputs, m.units] as [number, number],
        kernel: Array.from(m.mask),
        bias: Array.from(m.biasMask),
        nnz,
      };
    }),
  };
}

/** The kernel's shape in TF.js layout. */
function kernelShapeOf(node: PrunableNode, inputChannels: number): number[] {
  if (node.op === "dense") return [node.kernel.length / node.units, node.units];
  const [kh, kw] = node.kernelSize;
  return [kh, kw, inputChannels, node.op === "conv2d" ? node.filters : node.depthMultiplier];
}

/** masksToJson for a model graph: every Dense, Conv2D and DepthwiseConv2D node, in graph order. */
export function graphMasksToJson(graph: ModelGraph): MasksJson {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const layers: MasksJson["layers"] = [];
  for (const node of graph.nodes) {
    if (!isPrunable(node)) continue;
    const inShape = byName.get(node.inputs[0])!.shape;
    const kernel: number[] = Array.from(node.kernel, (v) => (v !== 0 ? 1 : 0));
    const outputs = node.op === "dense" ? node.units : node.op === "conv2d" ? node.filters : inShape[inShape.length - 1] * node.depthMultiplier;
    const bias: number[] = node.bias ? Array.from(node.bias, (v) => (v !== 0 ? 1 : 0)) : new Array(outputs).fill(0);
    const names = node.origin?.weightNames;
    const weights = { kernel: names?.kernel ?? `${node.name}/kernel`, ...(node.bias ? { bias: names?.bias ?? `${node.name}/bias` } : {}) };
    layers.push({
      name: node.name, ...(node.op === "dense" ? {} : { op: node.op }), weights, kernelShape: kernelShapeOf(node, inShape[inShape.length - 1]), kernel, bias,
      nnz: kernel.reduce((a, b) => a + b, 0) + bias.reduce((a, b) => a + b, 0),
    });
  }
  return { format: "net-trim-masks", version: 1, layers };
}

/** Reads masksToJson's output back (e.g. after JSON.parse), checking its shapes. */
export function masksFromJson(json: unknown): LayerMask[] {
  if (!isObject(json) || json.format !== "net-trim-masks" || !Array.isArray(json.layers)) {
    throw new ModelFormatError({ where: "masks", expected: '{format: "net-trim-masks", layers: [...]}', received: show(json) });
  }
  checkJsonDepth(json, "masks");
  return json.layers.map((l, i) => {
    const where = `masks.layers[${i}]`;
    if (!isObject(l) || !Array.isArray(l.kernelShape) || !Array.isArray(l.kernel) || !Array.isArray(l.bias)) {
      throw new ModelFormatError({ where, expected: "{name, kernelShape, kernel, bias}", received: show(l) });
    }
    const shape = l.kernelShape as number[];
    const op = l.op ?? "dense";
    if (!(op === "dense" ? shape.length === 2 : (op === "conv2d" || op === "depthwiseConv2d") && shape.length === 4) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
      throw new ModelFormatError({ where: `${where}.kernelShape`, expected: "[inputs, units] (Dense) or [kh, kw, inC, outC] (op conv2d or depthwiseConv2d)", received: show(l.kernelShape) });
    }
    // As a matrix: rows feed each output (kh·kw per channel for a depthwise kernel).
    const units = op === "depthwiseConv2d" ? shape[2] * shape[3] : shape[shape.length - 1];
    const inputs = units > 0 ? shape.reduce((a, b) => a * b, 1) / units : 0;
    if (l.kernel.length !== inputs * units || l.bias.length !== units) {
      throw new ModelFormatError({ where, code: "shape_mismatch", expected: `kernel of ${inputs} × ${units} = ${inputs * units} and bias of ${units} entries`, received: `${l.kernel.length} and ${l.bias.length}` });
    }
    if (typeof l.name !== "string") throw new ModelFormatError({ where: `${where}.name`, expected: "the layer's name (a string)", received: show(l.name) });
    for (const [field, list] of [["kernel", l.kernel], ["bias", l.bias]] as const) {
      const k = list.findIndex((v) => v !== 0 && v !== 1);
      if (k >= 0) throw new ModelFormatError({ where: `${where}.${field}[${k}]`, expected: "0 (pruned) or 1 (kept)", received: show(list[k]) });
    }
    return { name: l.name, mask: Uint8Array.from(l.kernel as number[]), biasMask: Uint8Array.from(l.bias as number[]), inputs, units };
  });
}
