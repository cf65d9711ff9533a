// Messages between the page (main.ts via worker-client.ts) and prune-worker.ts.
import type { Guarantee, LayerReport, NetworkProgress, PruneMode, SolveStatus } from "./lib.ts";

export interface PruneRequest {
  type: "prune";
  /** The parsed model.json and one ArrayBuffer per manifest group (as parseLayersModel takes them). */
  modelJson: unknown;
  weights: ArrayBuffer[];
  /** What the model and data are, for report.json. */
  modelLabel: string;
  calibrationLabel: string;
  /** [rows, cols] calibration samples. */
  calibration: Float32Array;
  rows: number;
  cols: number;
  /** Held-out digits with labels, when the model maps 784 pixels to 10 classes. */
  test?: { x: Float32Array; labels: Uint8Array };
  mode: PruneMode;
  epsilonGain: number;
}

export type ToWorker = PruneRequest | { type: "cancel" };

/** One pruned layer's kernel, for the pictures. */
export interface KernelPicture {
  name: string;
  inputs: number;
  units: number;
  /** [inputs, units] row-major, pruned. */
  kernel: Float32Array;
}

export interface Downloads {
  modelJson: string;
  weightData: ArrayBuffer;
  masksJson: string;
  reportJson: string;
}

export interface PruneOutcome {
  status: SolveStatus;
  timeMs: number;
  layers: LayerReport[];
  guarantee: Guarantee;
  /** Test accuracy in [0, 1] before and after, when test digits were sent. */
  accuracy?: { before: number; after: number; samples: number };
  kernels: KernelPicture[];
  /** Absent when the run was cancelled (no complete pruned network to save). */
  downloads?: Downloads;
  simd: boolean;
}

export type FromWorker =
  | { type: "progress"; progress: NetworkProgress }
  | { type: "result"; outcome: PruneOutcome }
  | { type: "error"; name: string; message: string };
