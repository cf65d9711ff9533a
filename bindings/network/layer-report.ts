// One layer's line of a NetworkResult, built the same way wherever the layer was solved: in this
// thread, on the worker pool, or as a job on another machine (distributed/merge.ts).
import type { LayerResult } from "../types.ts";
import type { DenseLayerSpec, DenseNetwork } from "./network.ts";
import type { LayerReport } from "./types.ts";

export const countNonzeros = (a: Float32Array) => a.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);

/** The program a layer gets: the last layer is linear (the logits), the others by their activation. */
export function layerKind(network: DenseNetwork, i: number): "relu" | "linear" {
  return i === network.layers.length - 1 ? "linear" : network.layers[i].activation === "relu" ? "relu" : "linear";
}

/** `targetNorm` is ‖Y^(ℓ)‖_F of the signal the layer was fitted to; `ms` the time its solve took. */
export function layerReport(layer: DenseLayerSpec, kind: "relu" | "linear", r: Pick<LayerResult, "status" | "info">, targetNorm: number, ms: number): LayerReport {
  const nnzBefore = countNonzeros(layer.kernel) + (layer.useBias ? countNonzeros(layer.bias) : 0);
  const parameters = layer.inputs * layer.units + (layer.useBias ? layer.units : 0);
  return {
    name: layer.name, kind, status: r.status, nnzBefore, nnzAfter: r.info.nnz, parameters,
    keptFraction: r.info.nnz / parameters, epsilon: r.info.epsilon,
    relativeError: r.info.outputError / (targetNorm || 1), iterations: r.info.iterations, timeMs: ms, info: r.info,
  };
}
