// Small helpers shared by the model-file reader, writer and the masks.
import { pathBeyondDepth } from "./json-depth.ts";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** How deep a value shown in a message may nest: JSON.stringify recurses. */
const SHOW_DEPTH = 32;

export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (pathBeyondDepth(v, SHOW_DEPTH) !== undefined) return `a value nested more than ${SHOW_DEPTH} levels deep`;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return typeof v === "function" ? "a function" : typeof v;
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return Array.isArray(v) ? `an array of length ${v.length}` : typeof v === "object" && v !== null ? "an object" : String(v);
  }
}

/** Whether `table` has `key` as its OWN property: names from a file ("toString", "__proto__") must not find Object.prototype's. */
export function hasOwn(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
