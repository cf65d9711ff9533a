// Sparse Conv2D by filter taps over planes: the input sample is copied once into zero-padded
// channel planes [c][hp][wp] (no bounds checks after), then for each filter, each of its nonzero
// weights (c, ky, kx) adds w · (a shifted input plane) to the filter's output plane, four outputs
// per SIMD step along a row (stride 1; other strides one at a time); the planes go back to NHWC.
// Work: nonzeros × output pixels / 4, whatever the input. Per output: bias, then the filter's
// nonzeros in (c, ky, kx) order: deterministic.
// Weights: fStart i32[f + 1], taps i32[nnz] (c << 16 | ky << 8 | kx), vals f32[nnz].

// Scratch for one sample (computed by the host): c·hp·wp + 4 floats of padded input planes (the 4
// for SIMD reads past the last row) and f·oh·ow4 of output planes (ow4 = ow rounded up to 4).
export function sparseConvPlanar(
  rows: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, f: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, hp: i32, wp: i32,
  x: usize, fStart: usize, taps: usize, vals: usize, bias: usize, scratch: usize, y: usize,
): void {
  const planes = scratch;
  const inFloats = c * hp * wp + 4;
  const out = scratch + <usize>inFloats * 4;
  const ow4 = (ow + 3) & ~3;
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
    for (let fi = 0; fi < f; fi++) {
      const plane = out + <usize>(fi * oh * ow4) * 4;
      const b = f32x4.splat(load<f32>(bias + <usize>fi * 4));
      for (let i = 0; i < oh * ow4; i += 4) v128.store(plane + <usize>i * 4, b);
      const end = load<i32>(fStart + <usize>fi * 4, 4);
      for (let k = load<i32>(fStart + <usize>fi * 4); k < end; k++) {
        const tap = load<i32>(taps + <usize>k * 4);
        const ci = tap >> 16, ky = (tap >> 8) & 0xff, kx = tap & 0xff;
        const v = load<f32>(vals + <usize>k * 4);
        const vv = f32x4.splat(v);
        const base = planes + <usize>((ci * hp + ky * dh) * wp + kx * dw) * 4;
        for (let oy = 0; oy < oh; oy++) {
          const src = base + <usize>(oy * sh * wp) * 4;
          const dst = plane + <usize>(oy * ow4) * 4;
          if (sw == 1) {
            for (let ox = 0; ox < ow4; ox += 4) {
              const d = dst + <usize>ox * 4;
              v128.store(d, f32x4.add(v128.load(d), f32x4.mul(vv, v128.load(src + <usize>ox * 4))));
            }
          } else {
            for (let ox = 0; ox < ow; ox++) {
              const d = dst + <usize>ox * 4;
              store<f32>(d, load<f32>(d) + v * load<f32>(src + <usize>(ox * sw) * 4));
            }
          }
        }
      }
    }
    // Planes → NHWC.
    const ys = y + <usize>p * <usize>(oh * ow * f) * 4;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const dst = ys + <usize>((oy * ow + ox) * f) * 4;
        const src = out + <usize>(oy * ow4 + ox) * 4;
        for (let fi = 0; fi < f; fi++) store<f32>(dst + <usize>fi * 4, load<f32>(src + <usize>(fi * oh * ow4) * 4));
      }
    }
  }
}
