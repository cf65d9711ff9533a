// decodeCompact / decodeCompactNetwork: a compact file back to the model graph (or the Dense
// chain) it was written from, bit for bit in float32. Everything is checked before use: the
// header and the file's CRC-32 first (a truncated or corrupted file is refused there), then the
// topology's fields, the tensor table against the header, every position and value, and the graph.
import { GraphError } from "../../errors.ts";
import type { DenseNetwork } from "../../network/network.ts";
import { buildGraph } from "../../network/graph/build.ts";
import type { ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { networkOfGraph } from "./dense-network.ts";
import { float32BitsOfHalf } from "../float16.ts";
import { HEADER_BYTES, readCompactHeader } from "./header.ts";
import { RangeDecoder } from "./range-coder.ts";
import { decodeTensor, FLOAT16, FLOAT32 } from "./tensor-coding.ts";
import { decodeText } from "./text-coding.ts";
import { parseTopology } from "./topology.ts";

function refuse(where: string, expected: string, received: string, reason?: string): never {
  throw new ModelFormatError({ where: `compact model ${where}`, expected, received, ...(reason ? { reason } : {}) });
}

/** The model graph stored in a compact file (weights as Float32Array, zeros included). */
export function decodeCompact(bytes: Uint8Array | ArrayBuffer): ModelGraph {
  const file = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  const header = readCompactHeader(file);
  const dec = new RangeDecoder(file, HEADER_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(decodeText(dec, header.topologyBytes)));
  } catch {
    refuse("topology", "UTF-8 JSON", "bytes that are not", "the payload is corrupted");
  }
  const { specs, inputs, outputs, slots } = parseTopology(json);
  const total = slots.reduce((s, t) => s + t.length, 0);
  const nonzeros = slots.reduce((s, t) => s + t.nonzeros, 0);
  if (slots.length !== header.tensorCount || total !== header.totalValues || nonzeros !== header.totalNonzeros) {
    refuse("tensors", `${header.tensorCount} tensors, ${header.totalValues} values, ${header.totalNonzeros} nonzeros (the header)`,
      `${slots.length} tensors, ${total} values, ${nonzeros} nonzeros in the topology`);
  }
  const half = header.values === "float16";
  for (const slot of slots) {
    const bits = slot.nonzeros === 0 ? new Uint32Array(slot.length) : decodeTensor(dec, slot.length, slot.nonzeros, half ? FLOAT16 : FLOAT32, slot.where);
    if (half) for (let i = 0; i < bits.length; i++) bits[i] = float32BitsOfHalf(bits[i]);
    slot.node[slot.field] = new Float32Array(bits.buffer);
  }
  if (dec.position > file.length) refuse("payload", `${file.length - HEADER_BYTES} bytes`, "more needed", "the file is truncated");
  try {
    return buildGraph(specs, inputs, outputs);
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    throw new ModelFormatError({ where: `compact model topology node "${e.node}" (${e.op})`, expected: "a consistent model graph", received: e.detail, layer: e.node, className: e.op, code: e.code });
  }
}

/** The chain of Dense layers stored in a compact file; a ModelFormatError when the file holds another graph. */
export function decodeCompactNetwork(bytes: Uint8Array | ArrayBuffer): DenseNetwork {
  return networkOfGraph(decodeCompact(bytes));
}
