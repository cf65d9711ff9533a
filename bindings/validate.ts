// Validation of everything a user passes to pruneLayer, before any work. Nothing passed in is
// modified: data is read, and copied only where a Float32Array must be made.
import { NonFiniteError, ShapeError, ValidationError } from "./errors.ts";
import { DEFAULTS, LIMITS } from "./defaults.ts";
import { boundedInteger, checkOptionNames, checkSignal, checkThreads } from "./option-checks.ts";
import { resolveReweight } from "./validate-reweight.ts";
import type { DenseF32, ResolvedOptions } from "./solver/settings.ts";
import type { LayerOptions, Matrix, WarmStart } from "./types.ts";

/** The names of LayerOptions. */
export const LAYER_OPTION_NAMES: readonly string[] = [
  "kind", "fitBias", "epsilon", "epsilonGain", "upperBound", "activeThreshold", "maxIter", "timeLimitMs",
  "signal", "onProgress", "warmStart", "absTol", "relTol", "dualRelTol", "feasTol", "rho",
  "adaptiveRho", "alpha", "checkInterval", "sparseInput", "linearForm", "wUpdate", "threads",
  "reweight",
];

/** Reads a MatrixInput into f32 row-major, checking shape and finiteness. */
export function toDenseF32(value: unknown, field: string): DenseF32 {
  if (value === null || typeof value !== "object") {
    throw new ValidationError(field, "a {data, rows, cols} matrix or an array of rows", value);
  }
  if (Array.isArray(value)) return fromRows(value, field);
  if (ArrayBuffer.isView(value)) {
    throw new ValidationError(
      field,
      "a {data, rows, cols} matrix (wrap a flat typed array with matrix(data, rows, cols): its shape cannot be guessed)",
      value,
    );
  }
  const m = value as Partial<Matrix>;
  if (!(m.data instanceof Float32Array) && !(m.data instanceof Float64Array)) {
    throw new ValidationError(`${field}.data`, "a Float32Array or Float64Array", m.data);
  }
  checkCount(m.rows, `${field}.rows`);
  checkCount(m.cols, `${field}.cols`);
  const rows = m.rows as number;
  const cols = m.cols as number;
  if (m.data.length !== rows * cols) {
    throw new ShapeError(
      `${field}.data has length ${m.data.length} but rows × cols = ${rows} × ${cols} = ${rows * cols}`,
    );
  }
  return { data: toF32Checked(m.data, cols, field), rows, cols };
}

function fromRows(rowsIn: unknown[], field: string): DenseF32 {
  const rows = rowsIn.length;
  const first = rowsIn[0] as ArrayLike<number> | undefined;
  const cols = rows === 0 ? 0 : first && typeof first === "object" ? first.length : -1;
  if (cols < 0) throw new ValidationError(`${field}[0]`, "an array of numbers", first);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = rowsIn[r] as ArrayLike<number>;
    if (row === null || typeof row !== "object" || typeof row.length !== "number") {
      throw new ValidationError(`${field}[${r}]`, "an array of numbers", row);
    }
    if (row.length !== cols) {
      throw new ShapeError(`${field}[${r}] has ${row.length} entries but ${field}[0] has ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const x = row[c];
      if (typeof x !== "number") throw new ValidationError(`${field}[${r}][${c}]`, "a number", x);
      data[r * cols + c] = x;
      if (!Number.isFinite(data[r * cols + c])) throw new NonFiniteError(field, r, c, x, Number.isFinite(x));
    }
  }
  return { data, rows, cols };
}

function checkCount(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, "a non-negative integer", value);
  }
}

/**
 * The data as float32 (the user's array when it already is one), every entry finite there: the
 * check is on the float32 values the solver will hold, so a float64 beyond float32's range
 * (which would become ±Infinity) is refused like a NaN, with its index and value.
 */
export function toF32Checked(source: Float32Array | Float64Array, cols: number, field: string): Float32Array {
  const data = source instanceof Float32Array ? source : Float32Array.from(source);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const x = source[i];
      throw new NonFiniteError(field, Math.floor(i / cols), i % cols, x, Number.isFinite(x));
    }
  }
  return data;
}

function finiteNumber(value: unknown, field: string, min: number, max: number, expected: string): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < min || value > max) {
    throw new ValidationError(field, expected, value);
  }
  return value;
}

const ITERATION_BOUND = "the kernels count iterations in 32-bit integers";

/**
 * Checks option names and values and fills in the defaults. `at` names the object in errors
 * ("options", or "options.layerOptions" when a network driver checks the options it passes on).
 */
export function resolveOptions(options: unknown, at = "options"): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ValidationError(at, "an object", options);
  }
  const o = options as Record<string, unknown>;
  checkOptionNames(o, at, LAYER_OPTION_NAMES);
  const get = <T>(key: string, fallback: T): unknown => (o[key] === undefined ? fallback : o[key]);

  const kind = get("kind", DEFAULTS.kind);
  if (kind !== "relu" && kind !== "linear") throw new ValidationError(`${at}.kind`, `"relu" or "linear"`, kind);
  if (o.epsilon !== undefined && o.epsilonGain !== undefined) {
    throw new ValidationError(`${at}.epsilon`, "either epsilon or epsilonGain, not both", o.epsilon);
  }
  const epsilon =
    o.epsilon === undefined ? undefined : finiteNumber(o.epsilon, `${at}.epsilon`, 0, Number.MAX_VALUE, "a finite number ≥ 0");
  const epsilonGain = finiteNumber(get("epsilonGain", DEFAULTS.epsilonGain), `${at}.epsilonGain`, 0, Number.MAX_VALUE, "a finite number ≥ 0");
  const rho = get("rho", DEFAULTS.rho);
  if (rho !== "auto") finiteNumber(rho, `${at}.rho`, Number.MIN_VALUE, Number.MAX_VALUE, `"auto" or a finite number > 0`);
  const signal = checkSignal(o.signal, `${at}.signal`);
  // undefined means absent; anything else must be a warm start (its contents are checked against the problem's size).
  if (o.warmStart !== undefined && (o.warmStart === null || typeof o.warmStart !== "object" || Array.isArray(o.warmStart))) {
    throw new ValidationError(`${at}.warmStart`, "{weights, bias, dual?} (or undefined for none)", o.warmStart);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
    throw new ValidationError(`${at}.onProgress`, "a function", o.onProgress);
  }
  const adaptiveRho = get("adaptiveRho", DEFAULTS.adaptiveRho);
  if (typeof adaptiveRho !== "boolean") throw new ValidationError(`${at}.adaptiveRho`, "true or false", adaptiveRho);
  const sparseInput = get("sparseInput", DEFAULTS.sparseInput);
  if (sparseInput !== "auto" && typeof sparseInput !== "boolean") {
    throw new ValidationError(`${at}.sparseInput`, `"auto", true or false`, sparseInput);
  }
  const linearForm = get("linearForm", DEFAULTS.linearForm);
  if (linearForm !== "auto" && linearForm !== "samples" && linearForm !== "reduced") {
    throw new ValidationError(`${at}.linearForm`, `"auto", "samples" or "reduced"`, linearForm);
  }
  const wUpdate = get("wUpdate", DEFAULTS.wUpdate);
  if (wUpdate !== "auto" && wUpdate !== "factored" && wUpdate !== "woodbury" && wUpdate !== "cg") {
    throw new ValidationError(`${at}.wUpdate`, `"auto", "factored", "woodbury" or "cg"`, wUpdate);
  }
  if ((wUpdate === "cg" || wUpdate === "woodbury") && linearForm === "reduced") {
    throw new ValidationError(`${at}.wUpdate`, `"auto" or "factored" with linearForm "reduced" (the reduced form has no ${wUpdate} update)`, wUpdate);
  }
  if (o.upperBound !== undefined && kind === "linear") {
    throw new ValidationError(`${at}.upperBound`, "no upper bound for a linear layer (it has no inactive set)", "a matrix");
  }
  const timeLimitMs = get("timeLimitMs", DEFAULTS.timeLimitMs);
  if (typeof timeLimitMs !== "number" || Number.isNaN(timeLimitMs) || timeLimitMs <= 0) {
    throw new ValidationError(`${at}.timeLimitMs`, "a number > 0 (Infinity for none)", timeLimitMs);
  }
  const threads = checkThreads(get("threads", DEFAULTS.threads), `${at}.threads`);
  const fitBias = get("fitBias", DEFAULTS.fitBias);
  if (typeof fitBias !== "boolean") throw new ValidationError(`${at}.fitBias`, "true or false", fitBias);
  return {
    kind,
    fitBias,
    epsilon,
    epsilonGain,
    activeThreshold: finiteNumber(get("activeThreshold", DEFAULTS.activeThreshold), `${at}.activeThreshold`, 0, Number.MAX_VALUE, "a finite number ≥ 0"),
    maxIter: boundedInteger(get("maxIter", DEFAULTS.maxIter), `${at}.maxIter`, 1, LIMITS.maxIter, ITERATION_BOUND),
    timeLimitMs,
    signal,
    onProgress: o.onProgress as LayerOptions["onProgress"],
    warmStart: o.warmStart as WarmStart | undefined,
    absTol: finiteNumber(get("absTol", DEFAULTS.absTol), `${at}.absTol`, 0, 1, "a number in [0, 1]"),
    relTol: finiteNumber(get("relTol", DEFAULTS.relTol), `${at}.relTol`, 0, 1, "a number in [0, 1]"),
    dualRelTol: finiteNumber(get("dualRelTol", DEFAULTS.dualRelTol), `${at}.dualRelTol`, 0, 1, "a number in [0, 1]"),
    feasTol: finiteNumber(get("feasTol", DEFAULTS.feasTol), `${at}.feasTol`, 0, 1, "a number in [0, 1]"),
    rho: rho as number | "auto",
    adaptiveRho,
    alpha: finiteNumber(get("alpha", DEFAULTS.alpha), `${at}.alpha`, 1, 1.99, "a number in [1, 1.99]"),
    checkInterval: boundedInteger(get("checkInterval", DEFAULTS.checkInterval), `${at}.checkInterval`, 1, LIMITS.checkInterval, ITERATION_BOUND),
    sparseInput,
    linearForm,
    wUpdate,
    threads: threads as number | "auto",
    reweight: resolveReweight(o.reweight, `${at}.reweight`),
  };
}

/** Checks a warm start against the problem's dimensions. */
export function checkWarmStart(warm: WarmStart, n: number, m: number, dualRows: { u1: number; u2: number }): void {
  if (warm === null || typeof warm !== "object") throw new ValidationError("options.warmStart", "{weights, bias, dual?}", warm);
  const typed = (x: unknown) => x instanceof Float32Array || x instanceof Float64Array;
  if (!typed(warm.weights)) throw new ValidationError("options.warmStart.weights", "a Float32Array or Float64Array", warm.weights);
  if (!typed(warm.bias)) throw new ValidationError("options.warmStart.bias", "a Float32Array or Float64Array", warm.bias);
  if (warm.weights.length !== n * m) {
    throw new ShapeError(`options.warmStart.weights has length ${warm.weights.length} but the layer has ${n} inputs × ${m} outputs = ${n * m}`);
  }
  if (warm.bias.length !== m) throw new ShapeError(`options.warmStart.bias has length ${warm.bias.length} but the layer has ${m} outputs`);
  toF32Checked(warm.weights, m, "options.warmStart.weights");
  toF32Checked(warm.bias, m, "options.warmStart.bias");
  if (warm.dual !== undefined) {
    const d = warm.dual;
    if (d === null || typeof d !== "object" || !(d.u1 instanceof Float32Array) || !(d.u2 instanceof Float32Array)) {
      throw new ValidationError("options.warmStart.dual", "the dual state of a previous LayerResult", d);
    }
    finiteNumber(d.rho, "options.warmStart.dual.rho", Number.MIN_VALUE, Number.MAX_VALUE, "a finite number > 0");
    for (const key of ["u1", "u2"] as const) {
      const rows = dualRows[key];
      if (d[key].length !== rows * m) {
        throw new ShapeError(`options.warmStart.dual.${key} has length ${d[key].length} but this solve's dual has ${rows} rows × ${m} outputs = ${rows * m} (a dual belongs to the form that produced it: samples, or reduced)`);
      }
      toF32Checked(d[key], m, `options.warmStart.dual.${key}`);
    }
  }
}

/** A solve needs at least one calibration sample: with none every answer fits and nothing is learnt. */
export function checkHasSamples(count: number, field: string): void {
  if (count === 0) throw new ValidationError(field, "at least 1 calibration sample", 0);
}

/** Checks input/output/upperBound agree: samples are rows. */
export function checkShapes(input: DenseF32, output: DenseF32, upperBound: DenseF32 | undefined): void {
  checkHasSamples(input.rows, "input.rows");
  if (input.rows !== output.rows) {
    throw new ShapeError(
      `input has ${input.rows} samples (rows) but output has ${output.rows}: both take one row per calibration sample` +
        ` (input ${input.rows} × ${input.cols} features, output ${output.rows} × ${output.cols} neurons)`,
    );
  }
  if (upperBound && (upperBound.rows !== output.rows || upperBound.cols !== output.cols)) {
    throw new ShapeError(
      `options.upperBound is ${upperBound.rows} × ${upperBound.cols} but output is ${output.rows} × ${output.cols}: they must match`,
    );
  }
}
