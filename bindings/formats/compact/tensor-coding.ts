// One tensor in the range-coded payload: the positions of its nonzero values as gaps (zeros
// skipped since the previous nonzero) and each nonzero value split into fields that are coded
// apart: exponent (adaptive, a few distinct values in a pruned layer), sign (adaptive in the
// exponent's context), the top 4 mantissa bits (adaptive in the exponent's context: magnitude
// pruning and weight distributions skew them) and the other mantissa bits (plain, one bit each).
// A tensor with no zero codes its values only. The models start afresh for every tensor.
import { ModelFormatError } from "../model-format-error.ts";
import { probabilities, type RangeDecoder, type RangeEncoder } from "./range-coder.ts";

/** The bit layout of the stored values: float32 or float16. */
interface FloatLayout {
  exponentBits: number;
  mantissaBits: number;
}
export const FLOAT32: FloatLayout = { exponentBits: 8, mantissaBits: 23 };
export const FLOAT16: FloatLayout = { exponentBits: 5, mantissaBits: 10 };

const TOP_MANTISSA_BITS = 4;
/** Gap classes: ⌊log2(gap + 1)⌋ in 0..31, coded in 6 bits; then up to 3 modelled bits below the leading one. */
const CLASS_BITS = 6;
const CLASS_TOP_BITS = 3;

class Models {
  readonly exponent: Uint16Array;
  readonly sign: Uint16Array;
  readonly mantissa: Uint16Array;
  readonly gapClass = probabilities(1 << CLASS_BITS);
  readonly gapTop = probabilities(64 << CLASS_TOP_BITS);
  constructor(readonly layout: FloatLayout) {
    const exponents = 1 << layout.exponentBits;
    this.exponent = probabilities(exponents);
    this.sign = probabilities(exponents);
    this.mantissa = probabilities(exponents << TOP_MANTISSA_BITS);
  }
}

function encodeValue(enc: RangeEncoder, m: Models, bits: number): void {
  const { exponentBits, mantissaBits } = m.layout;
  const exponent = (bits >>> mantissaBits) & ((1 << exponentBits) - 1);
  const low = mantissaBits - TOP_MANTISSA_BITS;
  enc.tree(m.exponent, 0, exponent, exponentBits);
  enc.bit(m.sign, exponent, bits >>> (exponentBits + mantissaBits));
  enc.tree(m.mantissa, exponent << TOP_MANTISSA_BITS, (bits >>> low) & ((1 << TOP_MANTISSA_BITS) - 1), TOP_MANTISSA_BITS);
  enc.direct(bits & ((1 << low) - 1), low);
}

function decodeValue(dec: RangeDecoder, m: Models): number {
  const { exponentBits, mantissaBits } = m.layout;
  const low = mantissaBits - TOP_MANTISSA_BITS;
  const exponent = dec.tree(m.exponent, 0, exponentBits);
  const sign = dec.bit(m.sign, exponent);
  const top = dec.tree(m.mantissa, exponent << TOP_MANTISSA_BITS, TOP_MANTISSA_BITS);
  const rest = dec.direct(low);
  return ((sign << (exponentBits + mantissaBits)) | (exponent << mantissaBits) | (top << low) | rest) >>> 0;
}

function encodeGap(enc: RangeEncoder, m: Models, gap: number): void {
  const v = gap + 1;
  const n = 31 - Math.clz32(v);
  const t = Math.min(n, CLASS_TOP_BITS);
  enc.tree(m.gapClass, 0, n, CLASS_BITS);
  enc.tree(m.gapTop, n << CLASS_TOP_BITS, (v >>> (n - t)) & ((1 << t) - 1), t);
  enc.direct(v & ((1 << (n - t)) - 1), n - t);
}

/** The gap, or −1 when its class is impossible (≥ 31: no tensor is that long). */
function decodeGap(dec: RangeDecoder, m: Models): number {
  const n = dec.tree(m.gapClass, 0, CLASS_BITS);
  if (n >= 31) return -1;
  const t = Math.min(n, CLASS_TOP_BITS);
  const top = dec.tree(m.gapTop, n << CLASS_TOP_BITS, t) | (1 << t);
  return top * 2 ** (n - t) + dec.direct(n - t) - 1;
}

/** Codes a tensor's bit patterns (the nonzero patterns are the stored values; `nonzeros` counts them). */
export function encodeTensor(enc: RangeEncoder, bits: Uint32Array, layout: FloatLayout, nonzeros: number): void {
  const m = new Models(layout);
  if (nonzeros === bits.length) {
    for (let i = 0; i < bits.length; i++) encodeValue(enc, m, bits[i]);
    return;
  }
  let previous = -1;
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === 0) continue;
    encodeGap(enc, m, i - previous - 1);
    encodeValue(enc, m, bits[i]);
    previous = i;
  }
}

/** Decodes `nonzeros` values of a tensor of `length` (bit patterns in the layout); refuses what no encoder writes. */
export function decodeTensor(dec: RangeDecoder, length: number, nonzeros: number, layout: FloatLayout, where: string): Uint32Array {
  const m = new Models(layout);
  const bits = new Uint32Array(length);
  const maxExponent = (1 << layout.exponentBits) - 1;
  const dense = nonzeros === length;
  let at = -1;
  for (let k = 0; k < nonzeros; k++) {
    if (dense) at = k;
    else {
      const gap = decodeGap(dec, m);
      at += gap + 1;
      if (gap < 0 || at >= length) {
        throw new ModelFormatError({ where, expected: `${nonzeros} positions below ${length}`, received: `nonzero ${k + 1} past the end`, reason: "the payload is corrupted" });
      }
    }
    const v = decodeValue(dec, m);
    if (v === 0 || ((v >>> layout.mantissaBits) & maxExponent) === maxExponent) {
      throw new ModelFormatError({ where: `${where}[${at}]`, expected: "a finite nonzero value", received: v === 0 ? "zero" : "NaN or Infinity", reason: "the payload is corrupted" });
    }
    bits[at] = v;
  }
  return bits;
}
