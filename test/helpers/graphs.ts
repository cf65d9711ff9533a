// Small model graphs shared by the pruneGraph tests: seeded weights, exact values for nothing.
import { expect } from "vitest";
import { buildGraph, type GraphNodeSpec, type GraphResult, type ModelGraph, type NetworkResult } from "../../bindings/index.ts";
import type { DenseNetwork } from "../../bindings/network/network.ts";
import { gaussian, rng } from "./problems.ts";

function weights(seed: number, n: number, fanIn: number): Float32Array {
  const g = gaussian(seed), u = rng(seed + 5);
  return new Float32Array(n).map(() => (u() < 0.7 ? g() / Math.sqrt(fanIn) : 0));
}
export function conv(name: string, input: string, cin: number, filters: number, k: number, activation: "relu" | "linear", seed: number): GraphNodeSpec {
  return {
    name, op: "conv2d", inputs: [input], filters, kernelSize: [k, k], strides: [1, 1], padding: "same", dilation: [1, 1], activation,
    kernel: weights(seed, k * k * cin * filters, k * k * cin), bias: weights(seed + 1, filters, 10),
  };
}
function dense(name: string, input: string, n: number, units: number, activation: "linear" | "tanh" | "sigmoid" | "softmax", seed: number): GraphNodeSpec {
  return { name, op: "dense", inputs: [input], units, activation, kernel: weights(seed, n * units, n), bias: null };
}

/** Every case of the program rule, a foldable BatchNorm and a depthwise node. */
export function mixedGraph(): ModelGraph {
  const g = gaussian(70);
  return buildGraph([
    { name: "x", op: "input", inputs: [], shape: [6, 6, 2] },
    conv("a", "x", 2, 3, 3, "relu", 71),
    conv("b", "a", 3, 3, 1, "linear", 72),
    {
      name: "bn", op: "batchNorm", inputs: ["b"], axis: -1, epsilon: 0.001, gamma: Float32Array.of(1.5, 0.7, 1.1), beta: Float32Array.of(0.1, -0.2, 0.3),
      mean: Float32Array.from({ length: 3 }, () => 0.2 * g()), variance: Float32Array.of(0.5, 1.2, 2),
    },
    { name: "rb", op: "activation", inputs: ["bn"], activation: "relu" },
    conv("c", "rb", 3, 3, 3, "linear", 73),
    conv("d", "rb", 3, 3, 1, "linear", 74),
    { name: "sum", op: "add", inputs: ["c", "d"] },
    {
      name: "dw", op: "depthwiseConv2d", inputs: ["sum"], depthMultiplier: 2, kernelSize: [3, 3], strides: [1, 1], padding: "valid", dilation: [1, 1],
      activation: "relu6", kernel: weights(75, 9 * 3 * 2, 9), bias: weights(76, 6, 10),
    },
    dense("pw", "dw", 6, 5, "linear", 83), // over the last axis of [4, 4, 6]
    { name: "flat", op: "flatten", inputs: ["pw"] },
    dense("e", "flat", 80, 8, "tanh", 77),
    dense("f", "e", 8, 6, "sigmoid", 78),
    dense("g", "f", 6, 4, "softmax", 79),
  ], ["x"], ["g"]);
}
export const samples = (S: number, size: number, seed = 80) => {
  const g = gaussian(seed);
  return new Float32Array(S * size).map(() => g());
};


/** A chain of Dense layers as a model graph (input "x", the layers' own names). */
export function chainGraph(network: DenseNetwork): ModelGraph {
  const specs: GraphNodeSpec[] = [{ name: "x", op: "input", inputs: [], shape: [network.inputSize] }];
  network.layers.forEach((l, i) => specs.push({
    name: l.name, op: "dense", inputs: [i === 0 ? "x" : network.layers[i - 1].name], units: l.units, activation: l.activation, kernel: l.kernel, bias: l.bias,
  }));
  return buildGraph(specs, ["x"], [network.layers[network.layers.length - 1].name]);
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** pruneGraph's result on chainGraph(network) is pruneNetwork's, bit for bit: weights, biases, budgets, iterations, nonzeros. */
export function expectChainBits(graphResult: GraphResult, networkResult: NetworkResult): void {
  networkResult.network.layers.forEach((l, i) => {
    const node = graphResult.graph.nodes.find((n) => n.name === l.name)!;
    if (node.op !== "dense") throw new Error("not dense");
    expect(bits(node.kernel)).toEqual(bits(l.kernel));
    expect(bits(node.bias!)).toEqual(bits(l.bias));
    expect(graphResult.layers[i].epsilon).toBe(networkResult.layers[i].epsilon);
    expect(graphResult.layers[i].iterations).toBe(networkResult.layers[i].iterations);
    expect(graphResult.layers[i].nnzAfter).toBe(networkResult.layers[i].nnzAfter);
  });
}
