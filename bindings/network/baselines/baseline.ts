// The shape every baseline pruner shares: (network, calibration, perLayerNonzeros) → DenseNetwork,
// so that a benchmark can run magnitude, Wanda and SparseGPT at the per-layer nonzero counts a
// Net-Trim run reached. Arguments are checked here once; nothing passed in is modified.
import { ShapeError, ValidationError } from "../../errors.ts";
import { toDenseF32 } from "../../validate.ts";
import type { MatrixInput } from "../../types.ts";
import type { DenseF32 } from "../../solver/settings.ts";
import { magnitudePrune } from "../magnitude.ts";
import { checkDenseNetwork, type DenseLayerSpec, type DenseNetwork } from "../network.ts";

/**
 * Prunes `network` to exactly `perLayerNonzeros[i]` nonzero parameters (kernel and bias together)
 * in layer i, using `calibration` ([P, inputSize], one row per sample) where the method needs it.
 */
export type BaselinePruner = (network: DenseNetwork, calibration: MatrixInput, perLayerNonzeros: number[]) => DenseNetwork;

/** Kernel entries plus bias entries when the layer has a bias: what a per-layer count counts. */
function parameterCount(layer: DenseLayerSpec): number {
  return layer.kernel.length + (layer.useBias ? layer.bias.length : 0);
}

/** Checks the three arguments of a baseline and returns the calibration samples as f32 rows. */
export function checkBaselineArguments(network: DenseNetwork, calibration: MatrixInput, perLayerNonzeros: number[]): DenseF32 {
  checkDenseNetwork(network);
  if (!Array.isArray(perLayerNonzeros) || perLayerNonzeros.length !== network.layers.length) {
    throw new ValidationError("perLayerNonzeros", `an array with one count per layer (${network.layers.length})`, perLayerNonzeros);
  }
  perLayerNonzeros.forEach((k, i) => {
    const most = parameterCount(network.layers[i]);
    if (!Number.isInteger(k) || k < 0 || k > most) throw new ValidationError(`perLayerNonzeros[${i}]`, `an integer in [0, ${most}]`, k);
  });
  const x = toDenseF32(calibration, "calibration");
  if (x.cols !== network.inputSize) {
    throw new ShapeError(`calibration has ${x.cols} features per sample but the network's first layer takes ${network.inputSize}`);
  }
  if (x.rows === 0) throw new ValidationError("calibration.rows", "at least one sample", 0);
  return x;
}

/** Magnitude pruning (kernel and bias ranked together per layer) in the baselines' shape: the calibration is checked, not used. */
export const magnitudeBaseline: BaselinePruner = (network, calibration, perLayerNonzeros) => {
  checkBaselineArguments(network, calibration, perLayerNonzeros);
  return magnitudePrune(network, perLayerNonzeros);
};
