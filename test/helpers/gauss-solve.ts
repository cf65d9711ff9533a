// The tests' own dense linear solve (shares no code with the library).

/** Solves A·w = r (k×k, row-major) by Gaussian elimination with partial pivoting, in f64. */
export function gaussSolve(a: number[][], r: number[]): number[] {
  const k = r.length;
  const m = a.map((row, i) => [...row, r[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let i = c + 1; i < k; i++) if (Math.abs(m[i][c]) > Math.abs(m[p][c])) p = i;
    [m[c], m[p]] = [m[p], m[c]];
    for (let i = c + 1; i < k; i++) {
      const f = m[i][c] / m[c][c];
      for (let j = c; j <= k; j++) m[i][j] -= f * m[c][j];
    }
  }
  const w = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let s = m[i][k];
    for (let j = i + 1; j < k; j++) s -= m[i][j] * w[j];
    w[i] = s / m[i][i];
  }
  return w;
}
