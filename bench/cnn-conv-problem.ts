// One conv layer of the bundled CNN as a solver problem on P calibration digits: its input and
// ReLU'd output signals, its geometry and the engine's LayerProblem (for benches that set up
// engines themselves: conv-threads, probe-adjoint-before-after).
import { forwardGraph, type ModelGraph, type PrunableNode } from "../bindings/index.ts";
import { convAxis, convBiasUnit, type ConvGeometry } from "../bindings/solver/conv-geometry.ts";
import type { LayerProblem } from "../bindings/solver/engine.ts";

export function cnnConvProblem(graph: ModelGraph, digits: Float32Array, P: number, name: string) {
  const node = graph.nodes.find((n) => n.name === name) as PrunableNode & { op: "conv2d" };
  const inName = node.inputs[0];
  const f = forwardGraph(graph, [digits], P, { outputsOf: [inName], preActivationOf: [name] });
  const input = f.values.get(inName)!;
  const output = f.preActivations.get(name)!.map((v) => Math.max(v, 0)); // both conv layers are ReLU layers
  const inShape = graph.nodes.find((n) => n.name === inName)!.shape;
  const rowsAxis = convAxis(inShape[0], node.kernelSize[0], node.strides[0], node.dilation[0], node.padding);
  const colsAxis = convAxis(inShape[1], node.kernelSize[1], node.strides[1], node.dilation[1], node.padding);
  const g: ConvGeometry = {
    samples: P, inH: inShape[0], inW: inShape[1], inC: inShape[2], outH: rowsAxis.out, outW: colsAxis.out, outC: node.filters,
    kh: node.kernelSize[0], kw: node.kernelSize[1], sh: node.strides[0], sw: node.strides[1], dh: node.dilation[0], dw: node.dilation[1],
    padTop: rowsAxis.padBefore, padLeft: colsAxis.padBefore,
  };
  const problem: LayerProblem = {
    P: P * g.outH * g.outW, N: g.kh * g.kw * g.inC, M: g.outC, input, output, upperBound: undefined, linear: false,
    activeThreshold: 0, sparse: false, fitBias: true, biasUnit: convBiasUnit(input, g), designNonzeros: 0, form: "samples",
  };
  return { node, input, output, inShape, g, problem };
}
