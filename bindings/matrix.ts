// The small matrix type users wrap flat arrays in.
import { ShapeError } from "./errors.ts";
import type { Matrix } from "./types.ts";

/** Wraps a flat row-major array as a rows × cols matrix (no copy). */
export function matrix(data: Float32Array | Float64Array, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) {
    throw new ShapeError(`matrix(): data has length ${data.length} but rows × cols = ${rows} × ${cols} = ${rows * cols}`);
  }
  return { data, rows, cols };
}
