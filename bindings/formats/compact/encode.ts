// encodeCompact: a pruned model (a ModelGraph, or a DenseNetwork) as one small file: the 32-byte
// header, then one range-coded payload holding the topology JSON and every weight tensor (its
// nonzero positions and values). Lossless in float32; float16 rounds each value to nearest.
import { ValidationError } from "../../errors.ts";
import { checkDenseNetwork, type DenseNetwork } from "../../network/network.ts";
import { buildGraph } from "../../network/graph/build.ts";
import type { ModelGraph } from "../../network/graph/types.ts";
import { graphOfNetwork } from "./dense-network.ts";
import { halfBitsOf } from "../float16.ts";
import { MAX_TOPOLOGY_BYTES, MAX_VALUES, writeCompactFile, type CompactValues } from "./header.ts";
import { RangeEncoder } from "./range-coder.ts";
import { encodeTensor, FLOAT16, FLOAT32 } from "./tensor-coding.ts";
import { encodeText } from "./text-coding.ts";
import { topologyOf } from "./topology.ts";

export interface CompactOptions {
  /** "float32" (default): bit for bit. "float16": each value rounded to the nearest half (smaller, lossy). */
  values?: CompactValues;
}

/** The stored bit patterns of a tensor (float32, or float16 in the low 16 bits) and their nonzero count. */
function storedBits(values: Float32Array, where: string, as: CompactValues): { bits: Uint32Array; nonzeros: number } {
  const f32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const bits = as === "float32" ? f32 : new Uint32Array(values.length);
  let nonzeros = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new ValidationError(`${where}[${i}]`, "a finite number", values[i]);
    if (as === "float16") {
      bits[i] = halfBitsOf(f32[i]);
      if ((bits[i] & 0x7c00) === 0x7c00) throw new ValidationError(`${where}[${i}]`, "a value float16 can hold (|v| < 65520) with values: \"float16\"", values[i]);
    }
    if (bits[i] !== 0) nonzeros++;
  }
  return { bits, nonzeros };
}

/** The compact file (see README "Smaller downloads" for its layout). Nothing passed in is modified. */
export function encodeCompact(model: ModelGraph | DenseNetwork, options: CompactOptions = {}): Uint8Array {
  if (typeof options !== "object" || options === null) throw new ValidationError("options", "an object", options);
  const values = options.values ?? "float32";
  if (values !== "float32" && values !== "float16") throw new ValidationError("options.values", '"float32" or "float16"', values);
  if (!model || typeof model !== "object") throw new ValidationError("model", "a ModelGraph or a DenseNetwork", model);
  let graph: ModelGraph;
  if ("layers" in model) {
    checkDenseNetwork(model);
    graph = graphOfNetwork(model);
  } else {
    graph = buildGraph(model.nodes, model.inputs, model.outputs); // what the decoder will rebuild: refuse now what it would refuse
  }
  const { topology, tensors } = topologyOf(graph);
  const total = tensors.reduce((s, t) => s + t.values.length, 0);
  if (total > MAX_VALUES) throw new ValidationError("model", `at most ${MAX_VALUES} weight values`, total);
  const stored = tensors.map((t) => storedBits(t.values, t.where, values));
  const text = new TextEncoder().encode(JSON.stringify({ ...topology, tensors: tensors.map((t, i) => [t.values.length, stored[i].nonzeros]) }));
  if (text.length > MAX_TOPOLOGY_BYTES) throw new ValidationError("model", `a topology of at most ${MAX_TOPOLOGY_BYTES} bytes as JSON`, text.length);

  const enc = new RangeEncoder();
  encodeText(enc, text);
  const layout = values === "float32" ? FLOAT32 : FLOAT16;
  for (const s of stored) if (s.nonzeros > 0) encodeTensor(enc, s.bits, layout, s.nonzeros);
  return writeCompactFile({
    values, topologyBytes: text.length, tensorCount: tensors.length, totalValues: total,
    totalNonzeros: stored.reduce((s, t) => s + t.nonzeros, 0),
  }, enc.finish());
}
