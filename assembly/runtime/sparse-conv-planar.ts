// Sparse Conv2D by filter taps over planes: the input sample is copied once into zero-padded
// channel planes [c][hp][wp] (no bounds checks after), then each output row of each filter sums
// its nonzero weights (c, ky, kx) times the shifted input rows, eight outputs per step in SIMD
// registers (stride 1; other strides, and the scalar build, one at a time), stored into the NHWC output after the
// layer's ReLU (act 1) or ReLU6 (act 2), if any.
// Work: nonzeros × output pixels / 4, whatever the input. Per output: bias, then the filter's
// nonzeros in (c, ky, kx) order: deterministic.
// Weights: fStart i32[f + 1], taps i32[nnz] (c << 16 | ky << 8 | kx), vals f32[nnz].

// Scratch for one sample (computed by the host): c·hp·wp + 8 floats of padded input planes (the 8
// for SIMD reads past the last row).
export function sparseConvPlanar(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, hp: i32, wp: i32,
  x: usize, fStart: usize, taps: usize, vals: usize, bias: usize, scratch: usize, y: usize, act: i32,
): void {
  const planes = scratch;
  const inFloats = c * hp * wp + 8;
  for (let p = 0; p < rows; p++) {
    // NHWC sample → zero-padded planes.
    memory.fill(planes, 0, <usize>inFloats * 4);
    const xs = x + <usize>p * <usize>(h * w * c) * 4;
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        const src = xs + <usize>((iy * w + ix) * c) * 4;
        const dst = planes + <usize>((iy + padTop) * wp + ix + padLeft) * 4;
        for (let ci = 0; ci < c; ci++) store<f32>(dst + <usize>(ci * hp * wp) * 4, load<f32>(src + <usize>ci * 4));
      }
    }
    // Per filter and output row, eight outputs at a time in two accumulators: bias, then every
    // nonzero's w · (its shifted input row); stored straight into the NHWC output.
    const ys = y + <usize>p * <usize>(oh * ow * f) * 4;
    for (let fi = 0; fi < f; fi++) {
      const b = load<f32>(bias + <usize>fi * 4);
      const first = load<i32>(fStart + <usize>fi * 4), end = load<i32>(fStart + <usize>fi * 4, 4);
      for (let oy = 0; oy < oh; oy++) {
        const rowOffset = <usize>(oy * sh * wp) * 4;
        const yRow = ys + <usize>(oy * ow * f + fi) * 4;
        if (ASC_FEATURE_SIMD && sw == 1) {
          const zero = f32x4.splat(0), six = f32x4.splat(6);
          for (let ox = 0; ox < ow; ox += 8) {
            let a0 = f32x4.splat(b), a1 = a0;
            for (let k = first; k < end; k++) {
              const tap = load<i32>(taps + <usize>k * 4);
              const vv = f32x4.splat(load<f32>(vals + <usize>k * 4));
              const src = planes + <usize>((((tap >> 16) * hp + ((tap >> 8) & 0xff) * dh) * wp + (tap & 0xff) * dw + ox) * 4) + rowOffset;
              a0 = f32x4.add(a0, f32x4.mul(vv, v128.load(src)));
              a1 = f32x4.add(a1, f32x4.mul(vv, v128.load(src, 16)));
            }
            if (act != 0) { a0 = f32x4.pmax(a0, zero); a1 = f32x4.pmax(a1, zero); }
            if (act == 2) { a0 = f32x4.pmin(a0, six); a1 = f32x4.pmin(a1, six); }
            const d = yRow + <usize>(ox * f) * 4, step = <usize>f * 4, left = ow - ox;
            store<f32>(d, f32x4.extract_lane(a0, 0));
            if (left > 1) store<f32>(d + step, f32x4.extract_lane(a0, 1));
            if (left > 2) store<f32>(d + 2 * step, f32x4.extract_lane(a0, 2));
            if (left > 3) store<f32>(d + 3 * step, f32x4.extract_lane(a0, 3));
            if (left > 4) store<f32>(d + 4 * step, f32x4.extract_lane(a1, 0));
            if (left > 5) store<f32>(d + 5 * step, f32x4.extract_lane(a1, 1));
            if (left > 6) store<f32>(d + 6 * step, f32x4.extract_lane(a1, 2));
            if (left > 7) store<f32>(d + 7 * step, f32x4.extract_lane(a1, 3));
          }
        } else {
          for (let ox = 0; ox < ow; ox++) {
            let a = b;
            for (let k = first; k < end; k++) {
              const tap = load<i32>(taps + <usize>k * 4);
              const src = planes + <usize>((((tap >> 16) * hp + ((tap >> 8) & 0xff) * dh) * wp + (tap & 0xff) * dw + ox * sw) * 4) + rowOffset;
              a += load<f32>(vals + <usize>k * 4) * load<f32>(src);
            }
            if (act != 0 && a < 0) a = 0;
            if (act == 2 && a > 6) a = 6;
            store<f32>(yRow + <usize>(ox * f) * 4, a);
          }
        }
      }
    }
  }
}
