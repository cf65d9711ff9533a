// The small matrix type users wrap flat arrays in.
import { ShapeError } from "./errors.ts";
import type { Matrix } from "./types.ts";
import type { Tensor } from "./conv-types.ts";

/** Wraps a flat row-major array as a rows × cols matrix (no copy). */
export function matrix(data: Float32Array | Float64Array, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) {
    throw new ShapeError(`matrix(): data has length ${data.length} but rows × cols = ${rows} × ${cols} = ${rows * cols}`);
  }
  return { data, rows, cols };
}

/** Wraps a flat row-major (NHWC) array as a tensor of the given shape (no copy). */
export function tensor(data: Float32Array | Float64Array, shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new ShapeError(`tensor(): data has length ${data.length} but the shape [${shape.join(", ")}] holds ${size}`);
  }
  return { data, shape: [...shape] };
}
