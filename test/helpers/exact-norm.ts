// The largest singular value of a small explicit matrix, exactly (to rounding): cyclic Jacobi
// rotations on its Gram matrix until the off-diagonal vanishes. The tests' own, independent of the
// library's power and Gram iterations.
export function exactLargestSingularValue(a: ArrayLike<number>, rows: number, cols: number): number {
  const byRows = rows <= cols;
  const n = byRows ? rows : cols, inner = byRows ? cols : rows;
  const at = (i: number, k: number) => (byRows ? a[i * cols + k] : a[k * cols + i]);
  const g = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < inner; k++) s += at(i, k) * at(j, k);
    return s;
  }));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) (i === j ? (diag += g[i][j] ** 2) : (off += g[i][j] ** 2));
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (g[p][q] === 0) continue;
        const theta = (g[q][q] - g[p][p]) / (2 * g[p][q]);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = g[k][p], kq = g[k][q];
          g[k][p] = c * kp - s * kq;
          g[k][q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = g[p][k], qk = g[q][k];
          g[p][k] = c * pk - s * qk;
          g[q][k] = s * pk + c * qk;
        }
      }
    }
  }
  return Math.sqrt(Math.max(0, ...g.map((r, i) => r[i])));
}

/** The explicit [outputs, inputs] matrix of a linear map given as a batch function: row r of `columns(identity)` is the map of basis vector r. */
export function explicitMatrix(inputs: number, apply: (batch: Float32Array, rows: number) => Float32Array): { a: Float64Array; rows: number; cols: number } {
  const eye = new Float32Array(inputs * inputs);
  for (let i = 0; i < inputs; i++) eye[i * inputs + i] = 1;
  const out = apply(eye, inputs);
  const outputs = out.length / inputs;
  const a = new Float64Array(outputs * inputs);
  for (let j = 0; j < inputs; j++) for (let i = 0; i < outputs; i++) a[i * inputs + j] = out[j * outputs + i];
  return { a, rows: outputs, cols: inputs };
}

/**
 * The exact norm of the circular convolution on an n1×n2 torus, kernel [kh, kw, c, f] (stride and
 * dilation 1): z[y, x, j] = Σ K[ky, kx, i, j]·x[(y + ky) mod n1, (x + kx) mod n2, i], its explicit matrix built here.
 */
export function circularConvNorm(kernel: ArrayLike<number>, kh: number, kw: number, c: number, f: number, n1: number, n2: number): number {
  const cols = n1 * n2 * c;
  const a = new Float64Array(n1 * n2 * f * cols);
  for (let y = 0; y < n1; y++) for (let x = 0; x < n2; x++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
    for (let i = 0; i < c; i++) for (let j = 0; j < f; j++) {
      a[((y * n2 + x) * f + j) * cols + (((y + ky) % n1) * n2 + ((x + kx) % n2)) * c + i] += kernel[((ky * kw + kx) * c + i) * f + j];
    }
  }
  return exactLargestSingularValue(a, n1 * n2 * f, cols);
}
