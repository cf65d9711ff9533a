// The model's constant tensors by name: initializers, sparse initializers and the outputs of
// Constant nodes; and the loader of external data (the caller's loadExternal, each file read once).
import { ModelFormatError } from "../model-format-error.ts";
import { NodeContext } from "./node-context.ts";
import type { ConstTensor } from "./read-state.ts";
import { DataType, int64, type GraphProto, type NodeProto, type TensorProto } from "./schema.ts";
import type { ExternalLoader } from "./tensor-data.ts";

function externalLoader(load: ((location: string) => Uint8Array | undefined) | undefined, loaded: Map<string, Uint8Array>): ExternalLoader {
  const files = new Map<string, Uint8Array>();
  return (t: TensorProto, where: string) => {
    const entries = new Map((t.external_data ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
    const location = entries.get("location");
    if (!location) throw new ModelFormatError({ where: `${where} external_data`, expected: "a location entry", received: "none" });
    let file = files.get(location);
    if (!file) {
      const got = load ? load(location) : undefined;
      if (!(got instanceof Uint8Array)) {
        throw new ModelFormatError({
          where, file: location, reason: `its data is in the external file "${location}"`,
          expected: load ? `loadExternal("${location}") to return the file's bytes` : `options.loadExternal to read "${location}" (next to the model file)`,
          received: load ? "no data" : "no loadExternal option",
        });
      }
      file = got;
      files.set(location, file);
    }
    const offset = Number(entries.get("offset") ?? 0);
    const length = entries.has("length") ? Number(entries.get("length")) : file.length - offset;
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= file.length)) {
      throw new ModelFormatError({ where: `${where} external_data`, file: location, expected: `offset + length within the file's ${file.length} bytes`, received: `offset ${entries.get("offset")}, length ${entries.get("length")}` });
    }
    const bytes = file.subarray(offset, offset + length);
    if (t.name) loaded.set(t.name, bytes);
    return bytes;
  };
}

/** The tensor a Constant node holds (value, value_float(s), value_int(s), or a sparse_value). */
function constantValue(ctx: NodeContext): TensorProto {
  const t = ctx.attribute("value")?.t;
  if (t) return t;
  const a = (name: string) => ctx.attribute(name);
  if (a("value_float")) return { dims: [], data_type: DataType.FLOAT, float_data: [a("value_float")!.f ?? 0] };
  if (a("value_floats")) return { dims: [a("value_floats")!.floats?.length ?? 0], data_type: DataType.FLOAT, float_data: a("value_floats")!.floats ?? [] };
  if (a("value_int")) return { dims: [], data_type: DataType.INT64, int64_data: [int64(a("value_int")!.i)] };
  if (a("value_ints")) return { dims: [a("value_ints")!.ints?.length ?? 0], data_type: DataType.INT64, int64_data: (a("value_ints")!.ints ?? []).map(int64) };
  ctx.fail("a Constant must hold a tensor", "attribute value, value_float(s) or value_int(s)", (ctx.node.attribute ?? []).map((x) => x.name).join(", ") || "no attribute");
}

export function constantTensors(
  g: GraphProto, nodes: NodeProto[], load: ((location: string) => Uint8Array | undefined) | undefined, loaded: Map<string, Uint8Array>,
): { constants: Map<string, ConstTensor>; external: ExternalLoader } {
  const constants = new Map<string, ConstTensor>();
  (g.initializer ?? []).forEach((t, index) => constants.set(t.name ?? "", { slot: { kind: "initializer", index }, tensor: t }));
  (g.sparse_initializer ?? []).forEach((s, index) => constants.set(s.values?.name ?? "", { slot: { kind: "sparse", index }, sparse: s }));
  nodes.forEach((n, node) => {
    if (n.op_type !== "Constant" || (n.domain ?? "") !== "") return;
    const ctx = new NodeContext(n, node);
    const sparse = ctx.attribute("sparse_value");
    const output = ctx.outputs[0] ?? "";
    if (sparse?.sparse_tensor) constants.set(output, { slot: { kind: "constant", node }, sparse: sparse.sparse_tensor });
    else constants.set(output, { slot: { kind: "constant", node }, tensor: constantValue(ctx) });
  });
  return { constants, external: externalLoader(load, loaded) };
}
