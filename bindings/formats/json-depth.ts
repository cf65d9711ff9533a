// How deeply a JSON value nests, found without recursion: model.json and masks.json are walked
// by recursive code (the Keras 3 node visitor, JSON.stringify in messages and in the writer), so a
// file nested thousands of levels deep would end in a raw stack overflow. Real files nest about a
// dozen levels; anything past MAX_JSON_DEPTH is refused up front, naming the bound and the path.
import { ModelFormatError } from "./model-format-error.ts";

/** The deepest nesting a model.json or masks.json may have (a Keras 3 model.json has ~12 levels). */
export const MAX_JSON_DEPTH = 64;

/** The path of the first value nested deeper than `max` levels (objects and arrays), if any. */
export function pathBeyondDepth(value: unknown, max: number): string | undefined {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: "" }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return path || "(top)";
    // Only containers go on the stack: a long array of numbers costs one pass and no paths.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const x: unknown = v[i];
        if (typeof x === "object" && x !== null) stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` });
      }
    } else {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === "object" && x !== null) stack.push({ v: x, depth: depth + 1, path: `${path}.${k}` });
      }
    }
  }
  return undefined;
}

/** Throws a ModelFormatError when `value` nests deeper than MAX_JSON_DEPTH. */
export function checkJsonDepth(value: unknown, where: string): void {
  const path = pathBeyondDepth(value, MAX_JSON_DEPTH);
  if (path === undefined) return;
  const shown = path.length > 80 ? `${path.slice(0, 77)}...` : path;
  throw new ModelFormatError({
    where, reason: "nesting this deep is not a model file (and would overflow the stack of the code that walks it)",
    expected: `objects and arrays nested at most ${MAX_JSON_DEPTH} levels deep`,
    received: `deeper nesting at ${where}${shown}`,
  });
}
