// The one solve of the refit on the support (refit.ts for the problem and why): per output unit,
// the least-squares weights on its kept columns of a design X̄ (rows: samples for a Dense layer,
// samples × output pixels for a conv; columns: inputs or kernel taps, the bias's column of ones
// last), from the Gram X̄ᵀX̄ and the cross product X̄ᵀt, with the ridge and, for a unit followed
// by relu, the alternation over the free targets on Ω^c. The Dense, Conv2D and DepthwiseConv2D
// refits differ only in how they accumulate the Gram and give a unit's rows (refit.ts,
// conv-refit.ts); everything here is theirs in common, in f64.
import { choleskyUpperInPlace } from "./baselines/cholesky-f64.ts";

/** λ: the ridge δ = λ·(mean diagonal of X̄_SᵀX̄_S), for a solve that stays stable on collinear inputs. */
export const REFIT_DAMPENING = 1e-6;

/** Alternations of the relu units' free targets on Ω^c with the least-squares solve. */
export const REFIT_ROUNDS = 3;

/** One output unit of the design. */
export interface RefitUnit {
  /** Its kept columns of the design, increasing, the bias's column last when the bias is kept. */
  columns: Int32Array;
  /** Its channel in the target z ([rows, channels] row-major). */
  channel: number;
  /** Its un-refitted weights on those columns (f64 copies). */
  own: Float64Array;
}

/**
 * The rows of X̄_S for one unit, in order, in blocks ([count, k] row-major, k = its columns). A
 * row whose `skip` entry is 1 is not read by the visitor: a design may leave it ungathered.
 */
export type UnitRows = (visit: (block: Float64Array, first: number, count: number) => void, skip?: Uint8Array) => void;

export interface RefitDesign {
  /** Rows of the design. */
  rows: number;
  /** X̄ᵀX̄ over the design's n columns, [n, n] row-major, f64. */
  gram: Float64Array;
  n: number;
  units: RefitUnit[];
  /** A unit's rows, gathered when called (called once per unit, after its normal matrix is factored). */
  rowsOf(unit: RefitUnit): UnitRows;
}

/** A + δI = UᵀU (row-major k×k, overwritten by U), δ = λ·mean diagonal; returns δ (0: A is zero, not factored). */
function factorDamped(a: Float64Array, k: number, lambda: number): number {
  let mean = 0;
  for (let i = 0; i < k; i++) mean += a[i * k + i] / k;
  const delta = lambda * mean;
  if (!(delta > 0)) return 0; // every kept input is zero on every row: the weights are zero
  for (let i = 0; i < k; i++) a[i * k + i] += delta;
  choleskyUpperInPlace(a, k, "the refit's normal matrix");
  return delta;
}

/** UᵀU w = r: Uᵀy = r forward, then U w = y backward. */
function solveFactored(u: Float64Array, r: Float64Array, k: number): Float64Array {
  const y = Float64Array.from(r);
  for (let i = 0; i < k; i++) {
    let s = y[i];
    for (let j = 0; j < i; j++) s -= u[j * k + i] * y[j];
    y[i] = s / u[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let j = i + 1; j < k; j++) s -= u[i * k + j] * y[j];
    y[i] = s / u[i * k + i];
  }
  return y;
}

function dot(block: Float64Array, at: number, w: Float64Array, k: number): number {
  let sum = 0;
  for (let s = 0; s < k; s++) sum += block[at + s] * w[s];
  return sum;
}

function addRow(r: Float64Array, block: Float64Array, at: number, k: number, t: number): void {
  for (let s = 0; s < k; s++) r[s] += block[at + s] * t;
}

/**
 * Every unit's refitted weights on its columns (null: no column, or every kept column zero on
 * every row, so its weights are zero). Per unit, with z its target column:
 *   linear: min ‖X̄_S w − z‖² + δ‖w‖²;
 *   relu:   min ‖(X̄_S w − z)_Ω‖² + ‖(X̄_S w)₊ on Ω^c‖² + δ‖w‖²  (Ω: z > 0; Net-Trim's Ω^c
 *           constraint as a one-sided penalty), by alternating over w and free targets t ≤ 0 on
 *           Ω^c (one factorization): the solve with t = z, or the unit's own weights if their
 *           objective is lower, then `rounds` − 1 times t = min(X̄_S w, 0) and solve again. The
 *           objective never goes up: it ends at or below the un-refitted weights'.
 * X̄_Sᵀz on Ω (every row, linear) is accumulated once; each round only adds the rows of Ω^c to it.
 */
export function refitUnits(design: RefitDesign, z: Float32Array, channels: number, relu: boolean, rounds = REFIT_ROUNDS, lambda = REFIT_DAMPENING): (Float64Array | null)[] {
  const { gram, n } = design;
  // Which rows a pass does not read: those of Ω^c (the fixed side of a relu unit), or of Ω (the free side).
  const offOmega = new Uint8Array(relu ? design.rows : 0), onOmega = new Uint8Array(relu ? design.rows : 0);
  return design.units.map((unit) => {
    const { columns, channel: c } = unit, k = columns.length;
    if (k === 0) return null;
    const a = new Float64Array(k * k);
    for (let s = 0; s < k; s++) {
      const row = columns[s] * n;
      for (let t = 0; t < k; t++) a[s * k + t] = gram[row + columns[t]];
    }
    const delta = factorDamped(a, k, lambda);
    if (delta === 0) return null;
    const rows = design.rowsOf(unit);
    for (let p = 0; p < offOmega.length; p++) {
      offOmega[p] = z[p * channels + c] > 0 ? 0 : 1;
      onOmega[p] = 1 - offOmega[p];
    }
    const fixedSide = new Float64Array(k);
    rows((block, first, count) => {
      for (let q = 0; q < count; q++) {
        const zp = z[(first + q) * channels + c];
        if (zp !== 0 && (zp > 0 || !relu)) addRow(fixedSide, block, q * k, k, zp);
      }
    }, relu ? offOmega : undefined);
    /** The solve whose free target on a row of Ω^c is target(its z, its row). */
    const solveWith = (target: (zp: number, block: Float64Array, at: number) => number) => {
      const r = Float64Array.from(fixedSide);
      if (relu) {
        rows((block, first, count) => {
          for (let q = 0; q < count; q++) {
            const zp = z[(first + q) * channels + c];
            if (zp > 0) continue;
            const t = target(zp, block, q * k);
            if (t !== 0) addRow(r, block, q * k, k, t);
          }
        }, onOmega);
      }
      return solveFactored(a, r, k);
    };
    // The first solve fits z itself (on Ω^c, z ≤ 0 is one choice of the free targets).
    let w = solveWith((zp) => zp);
    if (!relu) return w;
    // Start from whichever is lower, that solve or the un-refitted weights (the fit on Ω, the
    // leak above 0 on Ω^c, the ridge), then alternate: targets on Ω^c to min(X̄_S w, 0), solve again.
    const own = unit.own;
    let fOwn = 0, fW = 0;
    rows((block, first, count) => {
      for (let q = 0; q < count; q++) {
        const zp = z[(first + q) * channels + c];
        const vOwn = dot(block, q * k, own, k), vW = dot(block, q * k, w, k);
        fOwn += zp > 0 ? (vOwn - zp) ** 2 : vOwn > 0 ? vOwn * vOwn : 0;
        fW += zp > 0 ? (vW - zp) ** 2 : vW > 0 ? vW * vW : 0;
      }
    });
    for (let s = 0; s < k; s++) fOwn += delta * own[s] * own[s];
    for (let s = 0; s < k; s++) fW += delta * w[s] * w[s];
    if (fOwn < fW) w = own;
    for (let round = 1; round < rounds; round++) {
      const current = w;
      w = solveWith((_, block, at) => Math.min(dot(block, at, current, k), 0));
    }
    return w;
  });
}
