// What bench/real-models.bench.ts measures on nsfwjs's outputs (rows of class probabilities):
// the top-1 class, agreement between two models' top-1, and the safe rate, the task's own measure
// on safe-for-work photos: the share of images put in a safe class (nsfwjs: Drawing or Neutral).
// On SFW images it is the classifier's specificity; it says nothing of NSFW images flagged.
import { ValidationError } from "../bindings/errors.ts";

export const NSFW_SAFE_CLASSES = ["Drawing", "Neutral"];

/** Index of each row's largest entry (the first one on a tie). */
export function argmaxRows(p: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[r * classes + c] > p[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

/** Share of positions where two top-1 lists agree. */
export const agreement = (a: number[], b: number[]): number => a.filter((v, i) => v === b[i]).length / a.length;

/** Share of top-1 classes that are among `safe` (class names, looked up in `classes`). */
export function safeRate(top: number[], classes: string[], safe: string[] = NSFW_SAFE_CLASSES): number {
  const missing = safe.find((name) => !classes.includes(name));
  if (missing !== undefined) throw new ValidationError("safe", `class names among ${JSON.stringify(classes)}`, missing);
  const safeIndex = new Set(safe.map((name) => classes.indexOf(name)));
  return top.filter((t) => safeIndex.has(t)).length / top.length;
}
