// The guarantee of SPEC §5: the pruned network's measured end-to-end error on the calibration
// data against the Theorem 1 (parallel) or Theorem 2 (cascade) bound, computed from measured
// per-layer quantities.
import { certifiedSpectralNorm } from "./certified-norm.ts";
import { applyLayer, applyPrunedLayer, distance, frobenius } from "./forward.ts";
import type { DenseNetwork } from "./network.ts";
import type { Guarantee, LayerReport } from "./types.ts";

interface SignalComparison {
  /** ‖Ŷ^(ℓ) − Y^(ℓ)‖_F per layer, pruned network against the original on the calibration input. */
  errors: number[];
  /** Entries of Y^(ℓ) that are not positive (|Ω^c|) per layer. */
  inactive: number[];
  /** ‖Y^(L)‖_F of the original logits. */
  logitsNorm: number;
}

/**
 * Runs both networks side by side on the calibration input, two signals at a time. Either
 * network's layer outputs, when the caller has them already (a plan's signals, or those a run
 * computed on the way): the same values, without running the layers again.
 */
export function compareSignals(
  original: DenseNetwork, pruned: DenseNetwork, x: Float32Array, P: number,
  originalOutputs?: readonly Float32Array[], prunedOutputs?: readonly Float32Array[],
): SignalComparison {
  const L = original.layers.length;
  let o = x, q = x;
  const errors: number[] = [], inactive: number[] = [];
  for (let i = 0; i < L; i++) {
    const relu = i < L - 1 && original.layers[i].activation === "relu";
    o = originalOutputs ? originalOutputs[i] : applyLayer(original.layers[i], o, P, relu);
    q = prunedOutputs ? prunedOutputs[i] : applyPrunedLayer(pruned.layers[i], q, P, relu);
    errors.push(distance(q, o));
    let off = 0;
    for (let k = 0; k < o.length; k++) if (!(o[k] > 0)) off++;
    inactive.push(off);
  }
  return { errors, inactive, logitsNorm: frobenius(o) };
}

/**
 * Theorem 1 without link normalisation (SPEC §5): e_ℓ ≤ d_ℓ + ‖Ŵ_ℓ‖₂·e_{ℓ−1}, with d_ℓ the
 * layer's measured error on the ORIGINAL input (relu and the bias cancel in the difference).
 */
export function theorem1(pruned: DenseNetwork, measured: SignalComparison, reports: LayerReport[]): Guarantee {
  const perLayer: { measured: number; bound: number }[] = [];
  let bound = 0, normsProved = true;
  pruned.layers.forEach((l, i) => {
    const d = reports[i]?.info.outputError ?? NaN;
    const norm = certifiedSpectralNorm(l.kernel, l.inputs, l.units);
    normsProved &&= norm.proved;
    bound = d + norm.norm * bound;
    perLayer.push({ measured: measured.errors[i], bound });
  });
  return summarise("Theorem 1 (parallel)", perLayer, measured.logitsNorm, normsProved);
}

/**
 * Theorem 2 without link normalisation (SPEC §5), with the measured slack of the returned weights:
 * e_1 measured; e_ℓ ≤ f_ℓ·sqrt(γ_ℓ)·‖W_ℓ‖₂·e_{ℓ−1} + s_ℓ, where f_ℓ = max(1, fit/ε) and
 * s_ℓ = leakage·sqrt(|Ω^c|) (zero when the returned weights meet the constraints exactly);
 * κ scales the last layer.
 */
export function theorem2(original: DenseNetwork, measured: SignalComparison, reports: LayerReport[], gamma: number, kappa: number): Guarantee {
  const L = original.layers.length;
  const perLayer: { measured: number; bound: number }[] = [];
  let bound = 0, normsProved = true;
  original.layers.forEach((l, i) => {
    const info = reports[i]?.info;
    if (!info) {
      perLayer.push({ measured: measured.errors[i], bound: NaN });
      return;
    }
    if (i === 0) bound = info.outputError;
    else {
      const fitFactor = info.epsilon > 0 ? Math.max(1, info.fitError / info.epsilon) : 1;
      const offOmega = i < L - 1 ? measured.inactive[i] : 0;
      const norm = certifiedSpectralNorm(l.kernel, l.inputs, l.units);
      normsProved &&= norm.proved;
      bound = fitFactor * Math.sqrt(gamma) * (i === L - 1 ? kappa : 1) * norm.norm * bound
        + info.leakage * Math.sqrt(offOmega);
    }
    perLayer.push({ measured: measured.errors[i], bound });
  });
  return summarise("Theorem 2 (cascade)", perLayer, measured.logitsNorm, normsProved);
}

function summarise(theorem: Guarantee["theorem"], perLayer: { measured: number; bound: number }[], logitsNorm: number, normsProved: boolean): Guarantee {
  const last = perLayer[perLayer.length - 1];
  return {
    theorem, perLayer,
    measuredError: last.measured,
    relativeError: last.measured / (logitsNorm || 1),
    bound: last.bound,
    holds: perLayer.every((p) => p.measured <= p.bound * (1 + 1e-5) + 1e-6),
    appliesToReturnedWeights: true,
    normsProved,
  };
}
