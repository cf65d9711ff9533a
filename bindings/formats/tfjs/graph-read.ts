// TF.js LayersModel (model.json + weight data) → the format-neutral model graph. Every layer
// becomes one node named as the layer; its weights are decoded to float32 (float16 and quantized
// storage included, see weights.ts) and each node records the manifest names of its weights.
import { GraphError } from "../../errors.ts";
import { buildGraph } from "../../network/graph/build.ts";
import type { GraphNode, GraphNodeSpec, ModelGraph } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import { shapeStr, type Json } from "../json-helpers.ts";
import { checkGraphSizes, checkGraphWeightsFinite } from "../weight-checks.ts";
import { layerWhere } from "./topology.ts";
import { readLayerTopology, type ConnectedLayer } from "./graph-topology.ts";
import { layerNode, ROLE_FIELD } from "./graph-layers.ts";
import { mapLayerWeights } from "./graph-weights.ts";
import { decodeGroup, readManifest, splitWeightData, type ManifestEntry } from "./weights.ts";

const NO_WEIGHT = new Float32Array(0);

/** The shape TF.js stores a node's weight field in, given the node's input shape. */
function storedShape(node: GraphNode, field: string, input: readonly number[]): number[] {
  const channels = node.shape[node.shape.length - 1];
  if (field !== "kernel") return [channels];
  switch (node.op) {
    case "dense": return [input[input.length - 1], node.units];
    case "conv2d": return [...node.kernelSize, input[2], node.filters];
    case "depthwiseConv2d": return [...node.kernelSize, input[2], node.depthMultiplier];
    default: return [channels];
  }
}

/**
 * Reads a TF.js LayersModel as a model graph (any topology of the supported layers; see
 * graph-layers.ts for the op set and what is refused).
 *
 * @param modelJson  the parsed model.json
 * @param weightData one ArrayBuffer per manifest group (its files concatenated in `paths` order),
 *                   or one ArrayBuffer holding every group's data in manifest order
 */
export function parseLayersModelGraph(modelJson: unknown, weightData: ArrayBuffer | ArrayBuffer[]): ModelGraph {
  const topo = readLayerTopology(modelJson);
  // Layer settings first (with no weights yet), so that an unsupported layer is named as such
  // rather than as a layer whose weights are missing.
  for (const l of topo.layers) layerNode(l, () => NO_WEIGHT);
  const { entries, groups } = readManifest(modelJson as Json);
  const mapping = mapLayerWeights(topo.layers, entries);
  const groupBytes = splitWeightData(groups, weightData);
  const values = new Map<ManifestEntry, Float32Array>();
  for (const [gi, g] of groups.entries()) {
    for (const d of decodeGroup(g.entries, groupBytes[gi], gi, g.paths)) if (d.values) values.set(d.entry, d.values);
  }
  const layers: ConnectedLayer[] = [...topo.layers];
  if (topo.implicitInput) {
    layers.unshift({
      className: "InputLayer", name: topo.implicitInput.name, inbound: [], raw: {},
      config: { batch_input_shape: topo.implicitInput.batchShape },
    });
  }
  const byName = new Map(layers.map((l) => [l.name, l]));
  const specs: GraphNodeSpec[] = layers.map((l) => {
    const roles = mapping.get(l.name);
    const spec = layerNode(l, (role) => values.get(roles!.get(role)!)!);
    const weightNames: Record<string, string> = {};
    for (const [role, e] of roles ?? []) weightNames[ROLE_FIELD[role]] = e.name;
    return { ...spec, origin: { className: l.className, weightNames } };
  });
  let graph: ModelGraph;
  try {
    graph = buildGraph(specs, topo.inputs, topo.outputs);
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const l = byName.get(e.node);
    throw new ModelFormatError({
      where: l ? layerWhere(l) : `model ${e.node}`, layer: l?.name, className: l?.className, code: e.code,
      expected: "a layer consistent with its inputs and weights", received: e.detail,
    });
  }
  // Lengths are checked by buildGraph; the stored shapes must match too (a transposed kernel has the right length).
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const n of graph.nodes) {
    const roles = mapping.get(n.name);
    if (!roles) continue;
    for (const [role, e] of roles) {
      const expected = storedShape(n, ROLE_FIELD[role], nodes.get(n.inputs[0])!.shape);
      if (shapeStr(expected) !== shapeStr(e.shape)) {
        const l = byName.get(n.name)!;
        throw new ModelFormatError({ where: `${layerWhere(l)} weight ${e.where}`, layer: l.name, className: l.className, code: "shape_mismatch", expected: `shape ${shapeStr(expected)}`, received: shapeStr(e.shape) });
      }
    }
  }
  const place = (n: GraphNode) => {
    const l = byName.get(n.name)!;
    return { where: layerWhere(l), layer: l.name, className: l.className };
  };
  checkGraphSizes(graph, place);
  checkGraphWeightsFinite(graph, place);
  return graph;
}
