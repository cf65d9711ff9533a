// ONNX test fixtures (test/fixtures/onnx, made by scripts/make-onnx-fixtures.py with PyTorch) and
// onnxruntime-web (wasm backend, one thread) as the independent runtime the tests compare with.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-web";

export { maxRelativeError } from "./onnx-compare.ts";

ort.env.wasm.numThreads = 1;

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "onnx");

export interface Expected {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, file)));
}

export function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Expected;
}

/** Loads external data files from the fixtures folder. */
export function loadFixtureFile(location: string): Uint8Array | undefined {
  try {
    return fixtureBytes(location);
  } catch {
    return undefined;
  }
}

/** IEEE half bits of a float (round to nearest even), for float16 model inputs (Node 20 has no Float16Array). */
function halfBits(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return h;
}

function halfValue(h: number): number {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Runs a model in onnxruntime-web on one input (ONNX layout); returns the first output as float32. */
export async function ortRun(model: Uint8Array, data: Float32Array, shape: number[], float16 = false): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  try {
    const tensor = float16
      ? new ort.Tensor("float16", Uint16Array.from(data, halfBits), shape)
      : new ort.Tensor("float32", data, shape);
    const result = await session.run({ [session.inputNames[0]]: tensor });
    const out = result[session.outputNames[0]].data as Float32Array | Uint16Array;
    return out instanceof Uint16Array ? Float32Array.from(out, halfValue) : Float32Array.from(out);
  } finally {
    await session.release();
  }
}
