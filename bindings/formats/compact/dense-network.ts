// A chain of Dense layers (DenseNetwork, what pruneNetwork takes) as a model graph and back, so
// that the compact format stores one thing, the graph, and still returns a DenseNetwork to the
// callers that read TF.js Dense chains as one.
import type { DenseNetwork } from "../../network/network.ts";
import type { GraphNodeSpec, ModelGraph } from "../../network/graph/types.ts";
import { buildGraph } from "../../network/graph/build.ts";
import { ModelFormatError } from "../model-format-error.ts";

/** input → dense → ... → dense (→ softmax activation when the network has one). */
export function graphOfNetwork(network: DenseNetwork): ModelGraph {
  const taken = new Set(network.layers.map((l) => l.name));
  const unique = (base: string) => {
    let name = base;
    while (taken.has(name)) name += "_";
    taken.add(name);
    return name;
  };
  const input = unique("input");
  const specs: GraphNodeSpec[] = [{ name: input, op: "input", inputs: [], shape: [network.inputSize] }];
  let previous = input;
  for (const l of network.layers) {
    specs.push({ name: l.name, op: "dense", inputs: [previous], units: l.units, activation: l.activation, kernel: l.kernel, bias: l.useBias ? l.bias : null });
    previous = l.name;
  }
  if (network.outputActivation === "softmax") {
    const name = unique("softmax");
    specs.push({ name, op: "activation", inputs: [previous], activation: "softmax" });
    previous = name;
  }
  return buildGraph(specs, [input], [previous]);
}

function notAChain(where: string, received: string): never {
  throw new ModelFormatError({ where: `compact model ${where}`, expected: "a chain of Dense layers (input, dense with relu or linear, ..., an optional softmax)", received, reason: "read it with decodeCompact as a model graph" });
}

/** The DenseNetwork of a graph that is a chain of Dense layers (Dropout-like identities skipped); refuses any other graph. */
export function networkOfGraph(graph: ModelGraph): DenseNetwork {
  const [first, ...rest] = graph.nodes;
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1 || first.op !== "input" || first.shape.length !== 1) {
    notAChain("graph", `${graph.inputs.length} input(s) of shape [${first.shape.join(", ")}], ${graph.outputs.length} output(s)`);
  }
  const network: DenseNetwork = { layers: [], inputSize: first.shape[0] };
  let previous = first.name;
  for (const [i, node] of rest.entries()) {
    if (node.inputs.length !== 1 || node.inputs[0] !== previous) notAChain(`node "${node.name}"`, `inputs [${node.inputs.join(", ")}] after "${previous}"`);
    previous = node.name;
    const last = i === rest.length - 1;
    if (node.op === "identity" && !node.foldedBatchNorm) continue;
    if (node.op === "activation" && node.activation === "softmax" && last && network.layers.length > 0) {
      network.outputActivation = "softmax";
      continue;
    }
    if (node.op !== "dense") notAChain(`node "${node.name}"`, `a ${node.op} node`);
    const softmax = node.activation === "softmax" && last;
    if (node.activation !== "relu" && node.activation !== "linear" && !softmax) notAChain(`node "${node.name}"`, `activation ${node.activation}`);
    if (softmax) network.outputActivation = "softmax";
    const inputs = node.kernel.length / node.units;
    network.layers.push({
      name: node.name, activation: softmax ? "linear" : (node.activation as "relu" | "linear"), kernel: node.kernel,
      bias: node.bias ?? new Float32Array(node.units), useBias: node.bias !== null, inputs, units: node.units,
    });
  }
  if (network.layers.length === 0) notAChain("graph", "no Dense node");
  return network;
}
