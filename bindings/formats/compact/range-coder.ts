// A binary adaptive range coder (the scheme LZMA made common): each binary decision is coded with
// a probability that adapts to the decisions seen in its context, so skewed bits (exponents, gap
// lengths) cost less than a bit and random bits (low mantissa bits) cost one. Integer arithmetic
// only: encoder and decoder agree to the bit on every platform. Written for the compact format;
// the decoder never reads past its input (missing bytes read as 0) and never loops on its own.

const PROB_BITS = 11;
const PROB_ONE = 1 << PROB_BITS;
/** Adaptation speed: each decision moves its probability 1/32 of the way toward what happened. */
const MOVE_BITS = 5;
const TOP = 2 ** 24;
const TWO_32 = 2 ** 32;

/** A set of adaptive probabilities (of a 0), all starting at one half. */
export function probabilities(count: number): Uint16Array {
  return new Uint16Array(count).fill(PROB_ONE >>> 1);
}

export class RangeEncoder {
  private low = 0; // < 2^33: one carry bit above 32
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private out: Uint8Array = new Uint8Array(1024);
  private length = 0;

  private push(byte: number): void {
    if (this.length === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.length++] = byte;
  }

  /** Emits the top byte of low once no carry can change it any more. */
  private shiftLow(): void {
    const carry = this.low >= TWO_32 ? 1 : 0;
    const low32 = this.low % TWO_32;
    if (low32 < 0xff000000 || carry === 1) {
      let byte = this.cache;
      do {
        this.push((byte + carry) & 0xff);
        byte = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = low32 >>> 24;
    }
    this.cacheSize++;
    this.low = (low32 % TOP) * 256;
  }

  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) % TWO_32;
      this.shiftLow();
    }
  }

  bit(probs: Uint16Array, i: number, bit: number): void {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    if (bit === 0) {
      this.range = bound;
      probs[i] = p + ((PROB_ONE - p) >>> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
    }
    this.normalize();
  }

  /** `count` (≤ 24) low bits of `value`, most significant first, each at probability one half. */
  direct(value: number, count: number): void {
    for (let k = count - 1; k >= 0; k--) {
      this.range = this.range >>> 1;
      if ((value >>> k) & 1) this.low += this.range;
      this.normalize();
    }
  }

  /** `count` bits of `value` through a binary tree of probabilities (probs[base + 1 .. base + 2^count − 1]). */
  tree(probs: Uint16Array, base: number, value: number, count: number): void {
    let node = 1;
    for (let k = count - 1; k >= 0; k--) {
      const b = (value >>> k) & 1;
      this.bit(probs, base + node, b);
      node = (node << 1) | b;
    }
  }

  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out.slice(0, this.length);
  }
}

export class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private at: number;

  constructor(private readonly bytes: Uint8Array, start = 0) {
    this.at = start;
    for (let i = 0; i < 5; i++) this.code = (this.code * 256 + this.next()) % TWO_32;
  }

  /** Bytes consumed so far (past the end when the input was too short). */
  get position(): number {
    return this.at;
  }

  private next(): number {
    const b = this.at < this.bytes.length ? this.bytes[this.at] : 0;
    this.at++;
    return b;
  }

  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) % TWO_32;
      this.code = (this.code * 256 + this.next()) % TWO_32;
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((PROB_ONE - p) >>> MOVE_BITS);
      b = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
      b = 1;
    }
    this.normalize();
    return b;
  }

  direct(count: number): number {
    let v = 0;
    for (let k = 0; k < count; k++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = v * 2 + b;
      this.normalize();
    }
    return v;
  }

  tree(probs: Uint16Array, base: number, count: number): number {
    let node = 1;
    for (let k = 0; k < count; k++) node = (node << 1) | this.bit(probs, base + node);
    return node - (1 << count);
  }
}
