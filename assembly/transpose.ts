// Blocked out-of-place transpose: out (cols×rows, ldo) = aᵀ for a (rows×cols, lda).
// Tiles keep both the rows read and the rows written in L1.

const TILE: i32 = 32;

export function transpose(rows: i32, cols: i32, a: usize, lda: i32, out: usize, ldo: i32): void {
  const ldaBytes = <usize>lda * 4;
  const ldoBytes = <usize>ldo * 4;
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = min(j0 + TILE, cols);
      let i = i0;
      if (ASC_FEATURE_SIMD) {
        // 4×4 sub-blocks transposed in registers.
        for (; i + 4 <= i1; i += 4) {
          let j = j0;
          for (; j + 4 <= j1; j += 4) {
            const src = a + <usize>i * ldaBytes + <usize>j * 4;
            const r0 = v128.load(src), r1 = v128.load(src + ldaBytes);
            const r2 = v128.load(src + 2 * ldaBytes), r3 = v128.load(src + 3 * ldaBytes);
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
            const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
            const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
            const dst = out + <usize>j * ldoBytes + <usize>i * 4;
            v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(dst + ldoBytes, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
            v128.store(dst + 2 * ldoBytes, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
            v128.store(dst + 3 * ldoBytes, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
          }
          for (; j < j1; j++) {
            for (let r = 0; r < 4; r++) {
              store<f32>(out + <usize>j * ldoBytes + <usize>(i + r) * 4,
                load<f32>(a + <usize>(i + r) * ldaBytes + <usize>j * 4));
            }
          }
        }
      }
      for (; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          store<f32>(out + <usize>j * ldoBytes + <usize>i * 4, load<f32>(a + <usize>i * ldaBytes + <usize>j * 4));
        }
      }
    }
  }
}
