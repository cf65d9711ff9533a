// Measurements on a candidate solution, used for the honest report and the stopping test.
// All in the solver's scaled units, sums accumulated in f64.

let fitSq: f64 = 0; // ‖(Z − Y)_Ω‖² (all entries for a linear layer)
let outputSq: f64 = 0; // ‖act(Z) − Y‖²
let leakMax: f64 = 0; // max over Ω^c of (Z − V), clipped at 0

/** Fit, leakage and output error of Z = Xt·W against Y (n = P·M entries, mask u8: 1 on Ω). */
export function measureOutput(
  n: i32, linear: i32, hasV: i32, z: usize, y: usize, v: usize, mask: usize,
): void {
  let fit: f64 = 0, out: f64 = 0, leak: f64 = 0;
  for (let i: usize = 0; i < <usize>n; i++) {
    const o = i << 2;
    const zi = <f64>load<f32>(z + o);
    const yi = <f64>load<f32>(y + o);
    if (linear != 0) {
      const d = zi - yi;
      fit += d * d;
      out += d * d;
      continue;
    }
    // NaN stays NaN in every measure (a NaN pre-activation is not an output of 0).
    const act = zi < 0 ? 0 : zi;
    out += (act - yi) * (act - yi);
    if (load<u8>(mask + i) != 0) {
      fit += (zi - yi) * (zi - yi);
    } else {
      const vi: f64 = hasV != 0 ? <f64>load<f32>(v + o) : 0;
      const d = zi - vi;
      if (d > leak || d != d) leak = d; // once NaN, no comparison replaces it
    }
  }
  fitSq = fit;
  outputSq = out;
  leakMax = leak;
}

/**
 * The multiplier Λ = −U1 for the weak-duality bound (SPEC §8), clipped to Λ ≥ 0 on Ω^c where
 * the constraint is one-sided, written to `out` (n = P·M entries).
 */
export function dualMultiplier(n: i32, linear: i32, u1: usize, mask: usize, out: usize): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const o = i << 2;
    let lam = -load<f32>(u1 + o);
    if (linear == 0 && load<u8>(mask + i) == 0 && lam < 0) lam = 0;
    store<f32>(out + o, lam);
  }
}

// Results of the last measureOutput call.
/** ‖(Z − Y)_Ω‖² (scaled units). */
export function measuredFitSquared(): f64 { return fitSq; }
/** ‖act(Z) − Y‖² (scaled units). */
export function measuredOutputSquared(): f64 { return outputSq; }
/** max over Ω^c of Z − V, ≥ 0 (scaled units). */
export function measuredLeakage(): f64 { return leakMax; }

/** Builds the scaled design Xt (P×N̄: input·s with a last column `one`: biasUnit·s, or 0 without a bias) from a P×N input. */
export function buildDesign(p: i32, n: i32, input: usize, s: f32, one: f32, xt: usize): void {
  const nb = n + 1;
  for (let r = 0; r < p; r++) {
    const src = input + (<usize>r * <usize>n << 2);
    const dst = xt + (<usize>r * <usize>nb << 2);
    for (let c = 0; c < n; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * s);
    store<f32>(dst + (<usize>n << 2), one);
  }
}

/** mask[i] = 1 where y[i] > threshold (Ω), else 0. */
export function buildMask(n: i32, y: usize, threshold: f32, mask: usize): void {
  for (let i: usize = 0; i < <usize>n; i++) store<u8>(mask + i, load<f32>(y + (i << 2)) > threshold ? 1 : 0);
}

/** C̃ = G + I as f64 from an f32 Gram matrix (n×n). */
export function gramPlusIdentity64(n: i32, g: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const k = <usize>i * <usize>n + <usize>j;
      store<f64>(out + (k << 3), <f64>load<f32>(g + (k << 2)) + (i == j ? 1.0 : 0.0));
    }
  }
}
