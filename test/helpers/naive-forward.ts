// A Dense network's signals by naive loops in f64, for tests that recompute what the library
// measured (its own forward pass accumulates in f64 but stores f32).
import type { DenseNetwork } from "../../bindings/index.ts";

/** Every layer's output on `x` [P, inputSize] (relu where the layer says so). */
export function signals(network: DenseNetwork, x: ArrayLike<number>, P: number): Float64Array[] {
  const out: Float64Array[] = [];
  let s: ArrayLike<number> = x;
  network.layers.forEach((l) => {
    const y = new Float64Array(P * l.units);
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < l.units; j++) {
        let a = l.bias[j];
        for (let i = 0; i < l.inputs; i++) a += s[p * l.inputs + i] * l.kernel[i * l.units + j];
        y[p * l.units + j] = l.activation === "relu" && a < 0 ? 0 : a;
      }
    }
    out.push(y);
    s = y;
  });
  return out;
}

/** ‖a − b‖_F (‖a‖_F without b) in f64. */
export const norm = (a: ArrayLike<number>, b?: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - (b ? b[i] : 0)) ** 2;
  return Math.sqrt(s);
};
