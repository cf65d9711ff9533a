// Cheap passes the runtime runs in place after a layer, and max/average pooling over NHWC.
// The SIMD steps are skipped in the scalar build; the scalar loops do the same operations.

/** ReLU (kind 1) or ReLU6 (kind 2) over `count` floats at `p`, in place. */
export function activate(p: usize, count: i32, kind: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), six = f32x4.splat(6);
    for (; i + 4 <= count; i += 4) {
      const a = p + <usize>i * 4;
      let v = f32x4.pmax(v128.load(a), zero);
      if (kind == 2) v = f32x4.pmin(v, six);
      v128.store(a, v);
    }
  }
  for (; i < count; i++) {
    const a = p + <usize>i * 4;
    let v = load<f32>(a);
    if (v < 0) v = 0;
    if (kind == 2 && v > 6) v = 6;
    store<f32>(a, v);
  }
}

/**
 * Max (isMax 1) or average pooling, NHWC: the window clipped to the input ("same" padding is
 * ignored by the max and not counted by the average, as TensorFlow does). Per output pixel, the
 * window's cells in row order, four channels per SIMD step.
 */
export function pool2d(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  ph: i32, pw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, isMax: i32,
  x: usize, y: usize,
): void {
  let yo = y;
  const c4 = c & ~3;
  for (let p = 0; p < rows; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - padTop, 0), y1 = min(oy * sh - padTop + ph, h);
      for (let ox = 0; ox < ow; ox++, yo += <usize>c * 4) {
        const x0 = max(ox * sw - padLeft, 0), x1 = min(ox * sw - padLeft + pw, w);
        const first = x + <usize>(((p * h + y0) * w + x0) * c) * 4;
        if (ASC_FEATURE_SIMD && isMax && c >= 4) {
          // Four channels at a time, the last four overlapping the previous ones when c is not a
          // multiple of 4 (a max taken twice is the same max): no scalar tail.
          for (let k = 0; ; k += 4) {
            if (k + 4 > c) k = c - 4;
            let m = v128.load(first + <usize>k * 4);
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                m = f32x4.max(m, v128.load(x + <usize>((((p * h + iy) * w + ix) * c) + k) * 4));
              }
            }
            v128.store(yo + <usize>k * 4, m);
            if (k + 4 >= c) break;
          }
          continue;
        }
        // Start from the first cell (a window always has one), then fold in the others.
        for (let k = 0; k < c; k++) store<f32>(yo + <usize>k * 4, load<f32>(first + <usize>k * 4)); // memory.copy calls out: slow for a few floats
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            if (iy == y0 && ix == x0) continue;
            const xp = x + <usize>(((p * h + iy) * w + ix) * c) * 4;
            let k = 0;
            if (ASC_FEATURE_SIMD) {
              for (; k < c4; k += 4) {
                const a = yo + <usize>k * 4, b = v128.load(xp + <usize>k * 4);
                v128.store(a, isMax ? f32x4.max(v128.load(a), b) : f32x4.add(v128.load(a), b));
              }
            }
            for (; k < c; k++) {
              const a = yo + <usize>k * 4, b = load<f32>(xp + <usize>k * 4);
              store<f32>(a, isMax ? max(load<f32>(a), b) : load<f32>(a) + b);
            }
          }
        }
        if (!isMax) {
          const cells = <f32>((y1 - y0) * (x1 - x0));
          for (let k = 0; k < c; k++) store<f32>(yo + <usize>k * 4, load<f32>(yo + <usize>k * 4) / cells);
        }
      }
    }
  }
}
