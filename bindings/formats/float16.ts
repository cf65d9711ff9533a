// IEEE 754 half precision from and to float32, by integer operations on the bit patterns (round
// to nearest, ties to even; values below half's smallest subnormal round to a signed zero). The one
// converter of every format that stores float16 (TF.js weights and quantization, ONNX, .ntz).

/** float32 bits → float16 bits; ±Infinity when the value is too large for float16. */
export function halfBitsOf(f32: number): number {
  const sign = (f32 >>> 16) & 0x8000;
  const e = (f32 >>> 23) & 0xff;
  const m = f32 & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const he = e - 112; // the exponent rebased from 127 to 15
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    const full = m | 0x800000; // the implicit leading one made explicit
    const shift = 14 - he;
    let h = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (he << 10) | (m >>> 13);
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is right (up to Infinity)
  return sign | h;
}

/** float16 bits → float32 bits (exact). */
export function float32BitsOfHalf(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  let m = h & 0x3ff;
  if (e === 31) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  let exponent = -14; // a subnormal: shift the mantissa up to its leading one
  while ((m & 0x400) === 0) {
    m <<= 1;
    exponent--;
  }
  return (sign | ((exponent + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(4));

/** float16 bits → its value (exact). */
export function halfToFloat(h: number): number {
  scratch.setUint32(0, float32BitsOfHalf(h));
  return scratch.getFloat32(0);
}

/** A float32 value → the nearest float16's bits (±Infinity beyond ±65504 after rounding). */
export function floatToHalf(v: number): number {
  scratch.setFloat32(0, v);
  return halfBitsOf(scratch.getUint32(0));
}
