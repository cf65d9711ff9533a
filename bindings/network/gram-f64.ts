// X̄ᵀX̄ in f64 for the network-level least squares (SparseGPT's Hessian, the refit): zero inputs
// skipped, which is most of a ReLU or pixel input.

/** X̄ᵀX̄ ([n, n] row-major, symmetric), X̄ = [x | 1] when `withBias` (the ones column last), else x; x is [P, N]. */
export function gramF64(x: Float32Array, P: number, N: number, withBias: boolean): Float64Array {
  const n = N + (withBias ? 1 : 0);
  const g = new Float64Array(n * n);
  const index = new Int32Array(n);
  const value = new Float64Array(n);
  for (let p = 0; p < P; p++) {
    let count = 0;
    const o = p * N;
    for (let i = 0; i < N; i++) {
      const v = x[o + i];
      if (v !== 0) { index[count] = i; value[count++] = v; }
    }
    if (withBias) { index[count] = N; value[count++] = 1; }
    for (let a = 0; a < count; a++) {
      const row = index[a] * n, va = value[a];
      for (let b = a; b < count; b++) g[row + index[b]] += va * value[b];
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j];
  return g;
}
