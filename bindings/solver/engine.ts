// The interface between the ADMM controller (stopping, ρ, status) and the engines that run the
// iterations: WebAssembly (engine-wasm.ts) and the pure-TypeScript reference (engine-reference.ts).

/** One layer's problem, samples as rows, as validated f32 data. */
export interface LayerProblem {
  P: number;
  N: number;
  M: number;
  /** [P, N] */
  input: Float32Array;
  /** [P, M] */
  output: Float32Array;
  /** [P, M] or undefined for V = 0. */
  upperBound: Float32Array | undefined;
  linear: boolean;
  activeThreshold: number;
  /** Use sparse products (decided by the caller). */
  sparse: boolean;
  /** Whether the layer has a bias (the ones column); without one that column is all zeros. */
  fitBias: boolean;
  /**
   * The value of the bias column, in the input's units: the largest RMS input feature (1 when
   * every input is 0). The engines' bias variable is bias / biasUnit, so the program minimises
   * ‖W‖₁ + ‖b‖₁ / biasUnit and the same layer in other units takes the same path.
   */
  biasUnit: number;
  /** Nonzeros of [input | 1] (sizes the CSR copies). */
  designNonzeros: number;
  /**
   * "samples": the program on the P samples; "reduced" (linear layers, P ≥ N + 1): the same
   * program on the QR factor of [input | biasUnit], whose cost per iteration does not grow with P.
   */
  form: "samples" | "reduced";
  /**
   * Reweighted ℓ1: the engine holds per-weight ℓ1 weights c ([N+1, M], all 1 until
   * setL1Weights) and solves min Σ c_ij |W̄_ij| under the same constraints.
   */
  l1Weighted?: boolean;
  /**
   * How the samples form's W-update solves C̃·W3⁺ = D: "factored" (default) with C̃⁻¹ formed
   * once at setup (N̄² floats, f64 factor), "woodbury" with K = (I + Xt·X)⁻¹ formed instead (P²
   * floats: fewer samples than rows), or "cg": conjugate gradient on the products, no square
   * matrix at all (for layers whose factor does not fit).
   */
  wUpdate?: DenseWUpdate;
}

/** A Dense layer's W-update (conv layers have no Woodbury form: their P far exceeds N̄). */
export type DenseWUpdate = "factored" | "woodbury" | "cg";

/** Sums of squares gathered on a stats iteration (scaled units). */
export interface IterationStats {
  r1: number; // ‖W1 − Z⁺‖²
  r2: number; // ‖W2 − W3⁺‖²
  s1: number; // ‖Z⁺ − Z‖²
  s2: number; // ‖W3⁺ − W3‖²
  w1: number;
  w2: number;
  z: number;
  w3: number;
  u1: number;
  u2: number;
}

/** Fit, output error and leakage of some weights, in ORIGINAL units. */
export interface OutputMeasure {
  fitError: number;
  outputError: number;
  leakage: number;
}

export interface AdmmEngine {
  readonly simd: boolean;
  /** Threads the iterations run on (1 unless a threaded engine). */
  readonly threads: number;
  /** Why fewer threads run than were asked for (options.threads), when so. */
  readonly threadsReason?: string;
  /** The scale c0 the data is divided by. */
  readonly scale: number;
  /** Entries of the primal and dual residuals, when not P·M + (N+1)·M (the reduced form). */
  readonly residualEntries?: number;
  /** Reduced form: the least-squares floor min ‖X̄W − Y‖_F, a certificate for budgets below it. */
  readonly outputFloor?: number;
  /** Starts from W3 = `weights` ([N+1, M], bias last row; zeros if undefined) and the given scaled duals. */
  start(epsilon: number, rho: number, alpha: number, weights?: Float32Array, u1?: Float32Array, u2?: Float32Array): void;
  iterate(count: number, stats: boolean): void;
  stats(): IterationStats;
  setRho(rho: number): void;
  /** Measures the current sparse iterate W2. */
  measureW2(): OutputMeasure;
  /**
   * The ridge least-squares weights C̃⁻¹·X·Yᵀ (scaled problem): their RMS (sets the first ρ) and
   * their ℓ1 norm (the size of weights that reproduce the outputs: the yardstick of infeasibility).
   */
  leastSquares(): { rms: number; l1: number };
  /** Keeps a copy of the current scaled dual U1, for dualBound's "increment" source. */
  saveDual(): void;
  /**
   * Certified lower bound on the optimal objective (SPEC §8) from the multiplier Λ = −U1
   * ("current"), or from the dual's increment since saveDual, Λ = −(U1 − saved) ("increment"):
   * when no weights meet the budget the dual diverges along a Farkas ray and this bound grows
   * without limit.
   */
  dualBound(epsilon: number, source?: "current" | "increment"): number;
  /**
   * Sets the ℓ1 weights c ([N+1, M], positive; undefined: all 1) of the next solves: the soft
   * threshold becomes c/ρ per entry and dualBound certifies min Σ c|W̄|. Present when the problem
   * was set up with l1Weighted (engines that cannot weight the ℓ1 norm leave it out).
   */
  setL1Weights?(c: Float32Array | undefined): void;
  /** Copies out W2 ([N+1, M]), and the scaled duals. */
  readW2(): Float32Array;
  readDual(): { u1: Float32Array; u2: Float32Array };
  /** Frees what the engine holds (a threaded engine's workers); resolves when they are gone. */
  dispose(): void | Promise<void>;
}

/** Thrown by an engine's setup when C̃ cannot be factored. */
export class FactorizationError extends Error {}
