// The value of the bias column: the largest RMS input feature. The engines' bias variable is
// bias / biasUnit, so the program minimises ‖W‖₁ + ‖b‖₁ / biasUnit: the bias is pruned like a
// weight on an input of typical size, and the same layer in other units (inputs, outputs and ε
// multiplied by one factor) has the same W, its bias multiplied by that factor.

/** sqrt(max_j Σ_p input[p, j]² / P) in f64; 1 when every input is 0. `input` is [P, N] row-major. */
export function biasUnitOf(input: Float32Array, P: number, N: number): number {
  const columnSquares = new Float64Array(N);
  for (let i = 0; i < P * N; i++) {
    const x = input[i];
    if (x !== 0) columnSquares[i % N] += x * x;
  }
  let max = 0;
  for (let j = 0; j < N; j++) if (columnSquares[j] > max) max = columnSquares[j];
  return max > 0 ? Math.sqrt(max / P) : 1;
}
