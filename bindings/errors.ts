// The NetTrimError family: thrown only when a call cannot proceed. Every message names the
// field, what was expected and what was received. Each class sets its `name` as a string literal
// (not new.target.name): minifiers rename classes, and the name is what users and the worker
// error transport see.

export type NetTrimErrorCode =
  | "invalid_option"
  | "shape_mismatch"
  | "non_finite"
  | "wasm_unavailable"
  | "out_of_memory"
  | "work_folder";

export class NetTrimError extends Error {
  readonly code: NetTrimErrorCode;
  constructor(code: NetTrimErrorCode, message: string) {
    super(message);
    // Subclasses set their own literal name; a subclass defined elsewhere that does not keeps its class name.
    this.name = new.target === NetTrimError ? "NetTrimError" : new.target.name;
    this.code = code;
  }
}

/** An option or argument has the wrong type, an unknown name or a value out of range. */
export class ValidationError extends NetTrimError {
  readonly field: string;
  constructor(field: string, expected: string, received: unknown) {
    super("invalid_option", `${field}: expected ${expected}, received ${describe(received)}`);
    this.name = "ValidationError";
    this.field = field;
  }
}

/** Dimensions of the arguments do not agree. */
export class ShapeError extends NetTrimError {
  constructor(message: string) {
    super("shape_mismatch", message);
    this.name = "ShapeError";
  }
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A NaN or ±Infinity in the data, with the first index where it was found; or a finite number
 * beyond float32's range (`float32Overflow`), which the solver's float32 copy would turn into ±Infinity.
 */
export class NonFiniteError extends NetTrimError {
  readonly field: string;
  readonly row: number;
  readonly col: number;
  readonly value: number;
  readonly float32Overflow: boolean;
  constructor(field: string, row: number, col: number, value: number, float32Overflow = false) {
    super(
      "non_finite",
      float32Overflow
        ? `${field}[${row}][${col}] is ${value}, beyond float32's range (±${FLOAT32_MAX}): expected finite float32 numbers only`
        : `${field}[${row}][${col}] is ${value}: expected finite numbers only`,
    );
    this.name = "NonFiniteError";
    this.field = field;
    this.row = row;
    this.col = col;
    this.value = value;
    this.float32Overflow = float32Overflow;
  }
}

/**
 * A model graph is inconsistent: a node's input is missing, shapes disagree, a weight has the wrong
 * length, an attribute is out of range. Names the node and its op; readers turn it into their own
 * format's error naming the layer.
 */
export class GraphError extends NetTrimError {
  readonly node: string;
  readonly op: string;
  /** The message without the node prefix. */
  readonly detail: string;
  constructor(node: string, op: string, message: string, code: NetTrimErrorCode = "shape_mismatch") {
    super(code, `node "${node}" (${op}): ${message}`);
    this.name = "GraphError";
    this.node = node;
    this.op = op;
    this.detail = message;
  }
}

/** WebAssembly (or the module given) could not be loaded or instantiated. */
export class WasmUnavailableError extends NetTrimError {
  constructor(message: string) {
    super("wasm_unavailable", message);
    this.name = "WasmUnavailableError";
  }
}

/** The solve needs more memory than WebAssembly can address (or than allowed). */
export class OutOfMemoryError extends NetTrimError {
  readonly requiredBytes: number;
  readonly limitBytes: number;
  constructor(what: string, requiredBytes: number, limitBytes: number) {
    super(
      "out_of_memory",
      `${what} needs ${formatBytes(requiredBytes)} of WebAssembly memory but the limit is ${formatBytes(limitBytes)}`,
    );
    this.name = "OutOfMemoryError";
    this.requiredBytes = requiredBytes;
    this.limitBytes = limitBytes;
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB (${bytes} bytes)`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const v = value as unknown as { length?: number };
    return `a ${value.constructor.name} of length ${v.length ?? value.byteLength}`;
  }
  switch (typeof value) {
    case "number":
      return String(value);
    case "string":
      return JSON.stringify(value);
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "object":
      return `an object (${(value as object).constructor?.name ?? "Object"})`;
    default:
      return `${typeof value} ${String(value)}`;
  }
}

/**
 * A work folder of per-layer jobs (plan / solve / merge) is incomplete or inconsistent: a file
 * missing, a content hash that does not match, a result of another problem, a plan made for
 * another model. Names the file, what was expected and what was found.
 */
export class WorkFolderError extends NetTrimError {
  readonly file: string;
  constructor(file: string, expected: string, received: string, hint = "") {
    super("work_folder", `${file}: expected ${expected}, received ${received}${hint ? ` (${hint})` : ""}`);
    this.name = "WorkFolderError";
    this.file = file;
  }
}
