// The cascade budget of a node (SPEC §4): with V = W̄ᵀX̂ (the original weights on the pruned
// input) and Y the original target, ε² = γ·‖(V − Y)_Ω‖² (Ω = Y > 0 for the ReLU program, every
// entry for the linear one), times κ on the final nodes. The original weights then stay feasible.

/** ‖(V − Y)_Ω‖_F, summed in index order (as pruneNetwork does: the same bits on a Dense chain). */
export function cascadeFloor(v: Float32Array, y: Float32Array, relu: boolean): number {
  let sq = 0;
  for (let k = 0; k < v.length; k++) if (!relu || y[k] > 0) sq += (v[k] - y[k]) ** 2;
  return Math.sqrt(sq);
}

/** ε = √γ·‖(V − Y)_Ω‖·(κ on a final node), the expression pruneNetwork uses. */
export function cascadeEpsilon(v: Float32Array, y: Float32Array, relu: boolean, gamma: number, kappa: number, final: boolean): number {
  return Math.sqrt(gamma) * cascadeFloor(v, y, relu) * (final ? kappa : 1);
}

/**
 * A depthwise node's budget: its solver splits ε over the input channels as ε_c = ε·‖Y_c‖/‖Y‖, so
 * the layer ε is the smallest that gives every channel at least its own cascade budget
 * √γ·‖(V_c − Y_c)_Ω‖ (κ on a final node): the original weights stay feasible channel by channel.
 * Channels with Y_c = 0 are left out (their share is 0 whatever ε is).
 */
export function depthwiseCascadeEpsilon(
  v: Float32Array, y: Float32Array, relu: boolean, channels: number, multiplier: number, gamma: number, kappa: number, final: boolean,
): number {
  const width = channels * multiplier;
  const floors = new Float64Array(channels), norms = new Float64Array(channels);
  let normY = 0;
  for (let k = 0; k < y.length; k++) {
    const c = Math.floor((k % width) / multiplier);
    norms[c] += y[k] * y[k];
    normY += y[k] * y[k];
    if (!relu || y[k] > 0) floors[c] += (v[k] - y[k]) ** 2;
  }
  let ratio = 0;
  for (let c = 0; c < channels; c++) if (norms[c] > 0) ratio = Math.max(ratio, Math.sqrt(floors[c] / norms[c]));
  return Math.sqrt(gamma) * ratio * Math.sqrt(normY) * (final ? kappa : 1);
}
