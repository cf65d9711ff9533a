// The end of every pruneNetwork run, wherever its layers were solved (in order, on the pool, or
// picked from per-layer ladders by the keep allocation): the returned network (the original one
// unless every layer finished), the measured end-to-end error against the Theorem 1/2 bound,
// the status, and the refit when asked.
import { compareSignals, theorem1, theorem2 } from "./guarantee.ts";
import { countNonzeros, layerKind } from "./layer-report.ts";
import type { DenseLayerSpec, DenseNetwork } from "./network.ts";
import { refitNetwork } from "./refit.ts";
import type { LayerReport, NetworkExecution, NetworkOptions, NetworkResult, PruneMode } from "./types.ts";

interface FinishedLayers {
  network: DenseNetwork;
  /** The calibration input, [P, inputSize]. */
  x: Float32Array;
  P: number;
  mode: PruneMode;
  gamma: number;
  kappa: number;
  refit: boolean;
  /** One per layer that finished or was aborted (holes for those that never ran). */
  reports: LayerReport[];
  /** The pruned layers, all L of them when the run completed. */
  pruned: DenseLayerSpec[];
  execution: NetworkExecution;
  /** performance.now() when the run began. */
  t0: number;
  onProgress?: NetworkOptions["onProgress"];
  /**
   * The layer outputs the run already computed on the calibration input ([P, units] each, all L):
   * the original network's, and the pruned layers' (`pruned`, fed their own outputs). The
   * measurement reuses them instead of running the layers again (a forward pass of the first
   * MNIST layer at P = 8000 takes 1–4 s).
   */
  signals?: { original?: readonly Float32Array[]; pruned?: readonly Float32Array[] };
}

export function finishNetworkResult({ network, x, P, mode, gamma, kappa, refit, reports, pruned, execution, t0, onProgress, signals }: FinishedLayers): NetworkResult {
  const L = network.layers.length;
  const kindOf = (i: number) => layerKind(network, i);
  // One behaviour on every path (pool, this thread, cascade): a run in which any layer was
  // aborted, or that stopped before the last layer, returns the original network, never a
  // half-pruned one; `layers` reports what each finished or aborted layer did.
  const done = reports.filter(Boolean);
  const complete = done.length === L && done.every((r) => r.status !== "aborted") && pruned.length === L;
  const out: DenseNetwork = { ...network, layers: complete ? pruned : network.layers };
  // Signals are reused only when every layer's is there (an aborted run has fewer).
  const original = signals?.original?.length === L ? signals.original : undefined;
  const prunedSignals = signals?.pruned?.length === L ? signals.pruned : undefined;
  const measured = compareSignals(network, out, x, P, original, complete ? prunedSignals : original);
  const guarantee = mode === "parallel" ? theorem1(out, measured, reports) : theorem2(network, measured, reports, gamma, kappa);
  const firstBad = done.find((r) => r.status !== "solved");
  const status = firstBad?.status ?? (done.length === L ? "solved" : "aborted");
  if (!refit || !complete) return { network: out, status, layers: done, guarantee, execution, timeMs: performance.now() - t0 };

  // The refit: the guarantee above stays that of the Net-Trim weights; the returned ones are measured.
  const refitStarted = performance.now();
  onProgress?.({ layer: 0, layers: L, name: network.layers[0].name, phase: "refitting" });
  const relu = network.layers.map((_, i) => kindOf(i) === "relu");
  const refitted = refitNetwork(network.layers, pruned, x, P, relu);
  const returned: DenseNetwork = { ...network, layers: refitted.layers };
  const after = compareSignals(network, returned, x, P, original);
  const layers = done.map((r, i) => {
    const l = refitted.layers[i];
    const nnzAfter = countNonzeros(l.kernel) + (l.useBias ? countNonzeros(l.bias) : 0);
    return { ...r, nnzAfter, keptFraction: nnzAfter / r.parameters, refit: refitted.reports[i] };
  });
  const last = after.errors[L - 1];
  return {
    network: returned, status, layers, guarantee: { ...guarantee, appliesToReturnedWeights: false }, execution,
    refit: { perLayer: after.errors, measuredError: last, relativeError: last / (after.logitsNorm || 1), timeMs: performance.now() - refitStarted },
    timeMs: performance.now() - t0,
  };
}
