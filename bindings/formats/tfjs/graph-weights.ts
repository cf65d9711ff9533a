// Which manifest weight is which layer's kernel, bias, gamma, ...: by the layer's name in the
// weight's name ("conv2d/kernel", "model/conv2d/kernel") and the role in its last part; when no
// weight carries a layer's name, by manifest order. A weight claimed by no layer is an error
// (dropping it silently would change the model).
import { ModelFormatError } from "../model-format-error.ts";
import { hasOwn, shapeStr } from "../json-helpers.ts";
import { layerWhere, type RawLayer } from "./topology.ts";
import { DTYPE_BYTES, type ManifestEntry } from "./weights.ts";
import { weightRoles } from "./graph-layers.ts";

/** The role a weight's name ends in: "dense/kernel:0" → "kernel". */
function roleOf(name: string): string {
  return name.split("/").pop()!.replace(/:\d+$/, "");
}

function namesLayer(e: ManifestEntry, layer: string): boolean {
  return e.name.startsWith(`${layer}/`) || e.name.split("/").slice(0, -1).includes(layer);
}

/** layer name → role → manifest entry, for every layer with weights, in topology order. */
export function mapLayerWeights(layers: readonly RawLayer[], entries: readonly ManifestEntry[]): Map<string, Map<string, ManifestEntry>> {
  const model = entries.filter((e) => e.group !== "optimizer");
  const claimed = new Set<ManifestEntry>();
  const result = new Map<string, Map<string, ManifestEntry>>();
  let cursor = 0; // next manifest position for the order fallback
  for (const l of layers) {
    const roles = weightRoles(l);
    if (roles.length === 0) continue;
    const free = model.filter((e) => !claimed.has(e));
    const named = free.filter((e) => namesLayer(e, l.name));
    const byRole = new Map<string, ManifestEntry>();
    if (named.length > 0) {
      for (const e of named) {
        const role = roleOf(e.name);
        if (!roles.includes(role) || byRole.has(role)) {
          throw new ModelFormatError({
            where: `${layerWhere(l)} weight ${e.where}`, layer: l.name, className: l.className,
            reason: "the manifest has a weight under this layer's name that the layer does not have",
            expected: roles.map((r) => `${l.name}/${r}`).join(", "), received: `"${e.name}" ${shapeStr(e.shape)}`,
          });
        }
        byRole.set(role, e);
      }
    } else {
      const rest = model.slice(cursor).filter((e) => !claimed.has(e));
      roles.forEach((r, i) => { if (rest[i]) byRole.set(r, rest[i]); });
    }
    for (const r of roles) {
      const e = byRole.get(r);
      if (!e) {
        throw new ModelFormatError({
          where: layerWhere(l), layer: l.name, className: l.className, reason: "missing weight",
          expected: `a weight "${l.name}/${r}" in weightsManifest`, received: named.length ? named.map((x) => `"${x.name}"`).join(", ") : "no weight for this layer",
        });
      }
      if (!hasOwn(DTYPE_BYTES, e.dtype) || e.dtype === "bool" || e.dtype === "complex64") {
        throw new ModelFormatError({ where: `${e.where} dtype`, layer: l.name, className: l.className, reason: "a layer weight must be numeric", expected: "float32, int32 or float16", received: e.dtype });
      }
      claimed.add(e);
      cursor = Math.max(cursor, model.indexOf(e) + 1);
    }
    result.set(l.name, byRole);
  }
  const unused = model.filter((e) => !claimed.has(e));
  if (unused.length > 0) {
    throw new ModelFormatError({
      where: unused[0].where,
      reason: "this weight belongs to no layer of the topology (it would be dropped silently otherwise)",
      expected: "only the weights of the model's layers",
      received: `${unused.length} other weight(s): ${unused.map((e) => `"${e.name}"`).join(", ")}`,
    });
  }
  return result;
}
