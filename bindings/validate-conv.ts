// Validation of pruneConvLayer's arguments, before any work: the NHWC tensors, the geometry
// (TF's output-size rule) and the LayerOptions shared with pruneLayer. Errors name the field, the
// expected and the received value; nothing passed in is modified.
import { ShapeError, ValidationError } from "./errors.ts";
import { checkHasSamples, checkWarmStart, LAYER_OPTION_NAMES, resolveOptions, toDenseF32 } from "./validate.ts";
import { checkOptionNames } from "./option-checks.ts";
import { LIMITS } from "./defaults.ts";
import { convAxis, type ConvGeometry } from "./solver/conv-geometry.ts";
import type { ResolvedOptions } from "./solver/settings.ts";

/** A conv layer's data and options, checked: f32 NHWC tensors and the resolved geometry. */
interface ValidatedConvLayer {
  geometry: ConvGeometry;
  /** [samples, inH, inW, inC] */
  input: Float32Array;
  /** [samples, outH, outW, outC], i.e. [P, M] row-major with P = samples·outH·outW. */
  output: Float32Array;
  upperBound: Float32Array | undefined;
  options: ResolvedOptions;
  wUpdate: "auto" | "factored" | "cg";
}

/** The options pruneConvLayer adds to LayerOptions. */
const CONV_OPTION_NAMES = ["kernelSize", "strides", "padding", "dilation", "wUpdate"];

/** Reads an NHWC tensor {data, shape} into f32 (the user's array when it already is one). */
function toTensor4(value: unknown, field: string): { data: Float32Array; shape: number[] } {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value) || Array.isArray(value)) {
    throw new ValidationError(field, "a {data, shape} tensor of shape [samples, height, width, channels] (see tensor())", value);
  }
  const t = value as { data?: unknown; shape?: unknown };
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ValidationError(`${field}.shape`, "four non-negative integers [samples, height, width, channels]", shape);
  }
  const [n, h, w, c] = shape as number[];
  if (!(t.data instanceof Float32Array) && !(t.data instanceof Float64Array)) {
    throw new ValidationError(`${field}.data`, "a Float32Array or Float64Array", t.data);
  }
  if (t.data.length !== n * h * w * c) {
    throw new ShapeError(`${field}.data has length ${t.data.length} but the shape [${shape.join(", ")}] holds ${n * h * w * c}`);
  }
  // Finite and f32, reported per sample: row = sample, col = index within the sample.
  const dense = toDenseF32({ data: t.data, rows: n, cols: h * w * c }, field);
  return { data: dense.data, shape: [n, h, w, c] };
}

/** A pair of integers from 1 to LIMITS.convWindow given as one number or [a, b]. */
function pair(value: unknown, field: string): [number, number] {
  const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= LIMITS.convWindow;
  if (ok(value)) return [value as number, value as number];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw new ValidationError(
    field, `an integer from 1 to ${LIMITS.convWindow} or a pair [a, b] of them (the kernels compute positions in 32-bit integers)`, value,
  );
}

export function validateConvLayer(input: unknown, output: unknown, optionsIn: unknown): ValidatedConvLayer {
  if (optionsIn === null || typeof optionsIn !== "object" || Array.isArray(optionsIn)) {
    throw new ValidationError("options", "an object with the layer's kernelSize (and strides, padding, dilation)", optionsIn);
  }
  checkOptionNames(optionsIn, "options", [...CONV_OPTION_NAMES, ...LAYER_OPTION_NAMES]);
  const { kernelSize, strides, padding, dilation, upperBound, wUpdate, ...rest } = optionsIn as Record<string, unknown>;
  if (wUpdate !== undefined && wUpdate !== "auto" && wUpdate !== "factored" && wUpdate !== "cg") {
    throw new ValidationError("options.wUpdate", `"auto", "factored" or "cg"`, wUpdate);
  }
  if (rest.sparseInput !== undefined) {
    throw new ValidationError("options.sparseInput", "no sparseInput for a conv layer (its products are the convolution)", rest.sparseInput);
  }
  if (rest.linearForm !== undefined && rest.linearForm !== "samples" && rest.linearForm !== "auto") {
    throw new ValidationError("options.linearForm", `"samples" or "auto" (a conv layer is solved in operator form on its samples)`, rest.linearForm);
  }
  const options = resolveOptions({ ...rest, sparseInput: false });
  if (kernelSize === undefined) throw new ValidationError("options.kernelSize", "the kernel size [kh, kw] (or one number)", kernelSize);
  const [kh, kw] = pair(kernelSize, "options.kernelSize");
  const [sh, sw] = strides === undefined ? [1, 1] : pair(strides, "options.strides");
  const [dh, dw] = dilation === undefined ? [1, 1] : pair(dilation, "options.dilation");
  const pad = padding ?? "valid";
  if (pad !== "same" && pad !== "valid") throw new ValidationError("options.padding", `"same" or "valid"`, padding);
  if (upperBound !== undefined && options.kind === "linear") {
    throw new ValidationError("options.upperBound", "no upper bound for a linear layer (it has no inactive set)", "a tensor");
  }

  const x = toTensor4(input, "input");
  const [samples, inH, inW, inC] = x.shape;
  checkHasSamples(samples, "input.shape[0]");
  const rows = convAxis(inH, kh, sh, dh, pad);
  const cols = convAxis(inW, kw, sw, dw, pad);
  if (rows.out === 0 || cols.out === 0) {
    throw new ValidationError(
      "options.kernelSize",
      `a kernel whose dilated span (k − 1)·dilation + 1 fits the ${inH}×${inW} input under "valid" padding`,
      `[${kh}, ${kw}] with dilation [${dh}, ${dw}] (span ${(kh - 1) * dh + 1}×${(kw - 1) * dw + 1})`,
    );
  }
  const y = toTensor4(output, "output");
  const outC = y.shape[3];
  const expected = [samples, rows.out, cols.out, outC];
  if (y.shape.some((d, i) => d !== expected[i]) || outC === 0) {
    throw new ShapeError(
      `output has shape [${y.shape.join(", ")}] but the convolution of the input [${x.shape.join(", ")}] with kernel ` +
        `[${kh}, ${kw}], strides [${sh}, ${sw}], dilation [${dh}, ${dw}] and "${pad}" padding gives [${expected.slice(0, 3).join(", ")}, Cout ≥ 1]`,
    );
  }
  let upper: Float32Array | undefined;
  if (upperBound !== undefined) {
    const v = toTensor4(upperBound, "options.upperBound");
    if (v.shape.some((d, i) => d !== y.shape[i])) {
      throw new ShapeError(`options.upperBound has shape [${v.shape.join(", ")}] but output has [${y.shape.join(", ")}]: they must match`);
    }
    upper = v.data;
  }
  const P = samples * rows.out * cols.out;
  if (options.warmStart) checkWarmStart(options.warmStart, kh * kw * inC, outC, { u1: P, u2: kh * kw * inC + 1 });
  return {
    geometry: {
      samples, inH, inW, inC, outH: rows.out, outW: cols.out, outC, kh, kw, sh, sw, dh, dw,
      padTop: rows.padBefore, padLeft: cols.padBefore,
    },
    input: x.data,
    output: y.data,
    upperBound: upper,
    options,
    wUpdate: (wUpdate ?? "auto") as ValidatedConvLayer["wUpdate"],
  };
}
