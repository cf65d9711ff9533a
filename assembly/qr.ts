// Householder QR in f64, for the reduced (P-independent) form of a linear layer.
//
// The design is stored by columns: `a` is n×p row-major (row k = feature k over the p samples),
// so each reflection reads and updates contiguous rows. QR of X̄ = aᵀ (p×n) leaves:
//   R[j][k] (j < k) in a[k][j],   R[k][k] in rdiag[k],   the reflector of step j in a[j][j..p).
// Applying the same reflections to the rows of Yᵀ (m×p) gives QᵀY: its first n entries per row
// are the reduced targets, the rest is the least-squares residual (no cancellation).
//
// Sums use two accumulators (even and odd entries) in both builds, so the SIMD and scalar builds
// give the same bits.

/** a (n×p f64) = [input | biasValue]ᵀ: input is p×cols f32 row-major, n = cols + 1. */
export function designByColumns64(p: i32, cols: i32, input: usize, biasValue: f64, a: usize): void {
  const rowBytes = <usize>p * 8;
  for (let i = 0; i < p; i++) {
    const src = input + <usize>i * <usize>cols * 4;
    for (let k = 0; k < cols; k++) {
      store<f64>(a + <usize>k * rowBytes + <usize>i * 8, <f64>load<f32>(src + <usize>k * 4));
    }
  }
  const bias = a + <usize>cols * rowBytes;
  for (let i = 0; i < p; i++) store<f64>(bias + <usize>i * 8, biasValue);
}

/** dst (cols×rows f64) = srcᵀ, src rows×cols f32 row-major. */
export function transposeToF64(rows: i32, cols: i32, src: usize, dst: usize): void {
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) {
      store<f64>(dst + (<usize>k * <usize>rows + <usize>i) * 8, <f64>load<f32>(src + (<usize>i * <usize>cols + <usize>k) * 4));
    }
  }
}

/** Σ x[i]·y[i], i < len, as (even sum) + (odd sum). */
function dotPairs(len: i32, x: usize, y: usize): f64 {
  let i = 0;
  let even: f64 = 0, odd: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 2 <= len; i += 2) {
      const o = <usize>i * 8;
      acc = f64x2.add(acc, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    }
    even = f64x2.extract_lane(acc, 0);
    odd = f64x2.extract_lane(acc, 1);
  } else {
    for (; i + 2 <= len; i += 2) {
      const o = <usize>i * 8;
      even += load<f64>(x + o) * load<f64>(y + o);
      odd += load<f64>(x + o + 8) * load<f64>(y + o + 8);
    }
  }
  if (i < len) even += load<f64>(x + <usize>i * 8) * load<f64>(y + <usize>i * 8);
  return even + odd;
}

/** y[i] −= s·x[i], i < len. */
function subtractScaled(len: i32, s: f64, x: usize, y: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f64x2.splat(s);
    for (; i + 2 <= len; i += 2) {
      const o = <usize>i * 8;
      v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(sv, v128.load(x + o))));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i * 8;
    store<f64>(y + o, load<f64>(y + o) - s * load<f64>(x + o));
  }
}

/**
 * Householder QR of aᵀ in place (see the header for where R ends up). tau[j] = 0 marks a step
 * with nothing to reflect (a zero remainder: R[j][j] = 0). Needs p ≥ n.
 */
export function householderQr64(n: i32, p: i32, a: usize, tau: usize, rdiag: usize): void {
  const rowBytes = <usize>p * 8;
  for (let j = 0; j < n; j++) {
    const len = p - j;
    const v = a + <usize>j * rowBytes + <usize>j * 8;
    const normSq = dotPairs(len, v, v);
    if (normSq == 0) {
      store<f64>(tau + <usize>j * 8, 0);
      store<f64>(rdiag + <usize>j * 8, 0);
      continue;
    }
    const norm = Math.sqrt(normSq);
    const x0 = load<f64>(v);
    // v = x − α·e1 with α = −sign(x0)·‖x‖ (no cancellation in v0); vᵀv = 2‖x‖(‖x‖ + |x0|).
    const alpha = x0 >= 0 ? -norm : norm;
    store<f64>(v, x0 - alpha);
    store<f64>(tau + <usize>j * 8, 1.0 / (norm * (norm + Math.abs(x0))));
    store<f64>(rdiag + <usize>j * 8, alpha);
    reflectRows(j, p, a, tau, n - j - 1, a + <usize>(j + 1) * rowBytes);
  }
}

/** Applies reflection j (stored in a, tau) to `count` rows of length p starting at `rows`. */
function reflectRows(j: i32, p: i32, a: usize, tau: usize, count: i32, rows: usize): void {
  const t = load<f64>(tau + <usize>j * 8);
  if (t == 0) return;
  const len = p - j;
  const rowBytes = <usize>p * 8;
  const v = a + <usize>j * rowBytes + <usize>j * 8;
  for (let k = 0; k < count; k++) {
    const row = rows + <usize>k * rowBytes + <usize>j * 8;
    subtractScaled(len, t * dotPairs(len, v, row), v, row);
  }
}

/** b (count×p f64) ← Qᵀ applied to each row: the n reflections of householderQr64, in order. */
export function applyQt64(n: i32, p: i32, a: usize, tau: usize, count: i32, b: usize): void {
  for (let j = 0; j < n; j++) reflectRows(j, p, a, tau, count, b);
}
