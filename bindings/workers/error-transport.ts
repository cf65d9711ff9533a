// Errors across the worker boundary: the worker posts them as plain data, the pool rebuilds the
// same class with the same name, code, message and fields (by name, or by code when the name is unknown).
import {
  NetTrimError, NonFiniteError, OutOfMemoryError, ShapeError, ValidationError, WasmUnavailableError, WorkFolderError,
  type NetTrimErrorCode,
} from "../errors.ts";
import type { SerializedError } from "./protocol.ts";

/** An error as plain data: the pool rebuilds the same class from name/code (see reviveError). */
export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: "Error", message: `a non-Error value was thrown: ${String(e)}` };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "name" || k === "message" || k === "stack" || k === "code") continue;
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) fields[k] = v;
  }
  const code = (e as { code?: unknown }).code;
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: typeof code === "string" ? code : undefined,
    fields,
  };
}

/** The net-trim classes by their literal names (names survive minification: errors.ts sets them as strings). */
const NET_TRIM_ERRORS: Record<string, new (...args: never[]) => NetTrimError> = {
  NetTrimError, ValidationError, ShapeError, NonFiniteError, WasmUnavailableError, OutOfMemoryError, WorkFolderError,
};

/** The class for each code: an error whose name is unknown here (a subclass defined elsewhere, a renamed class) is still revived by its code. */
const BY_CODE: Record<NetTrimErrorCode, new (...args: never[]) => NetTrimError> = {
  invalid_option: ValidationError,
  shape_mismatch: ShapeError,
  non_finite: NonFiniteError,
  wasm_unavailable: WasmUnavailableError,
  out_of_memory: OutOfMemoryError,
  work_folder: WorkFolderError,
};

const STANDARD_ERRORS: Record<string, ErrorConstructor> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
};

const own = <T>(table: Record<string, T>, key: string | undefined): T | undefined =>
  key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;

/**
 * Rebuilds an error posted by a worker as the same class with the same name, code, message and
 * fields (the class's constructor is not re-run: it would rebuild the message from parts). The
 * class is found by name among net-trim's classes, else by `code` (so a NetTrimError keeps its
 * class even when a minifier renamed it), else by name among the standard errors.
 */
export function reviveError(s: SerializedError): Error {
  const netTrim = own(NET_TRIM_ERRORS, s.name) ?? own(BY_CODE, s.code);
  const cls = netTrim ?? own(STANDARD_ERRORS, s.name) ?? Error;
  const e = Reflect.construct(Error, [s.message], cls) as Error & Record<string, unknown>;
  if (netTrim) e.name = s.name; // an own field, as NetTrimError's constructor sets it
  else if (e.name !== s.name) Object.defineProperty(e, "name", { value: s.name, writable: true, configurable: true });
  if (s.code !== undefined) e.code = s.code;
  if (s.fields) for (const [k, v] of Object.entries(s.fields)) if (!(k in e) || Object.hasOwn(e, k)) e[k] = v;
  if (s.stack) e.stack = `${s.stack}\n    at (posted from a net-trim worker)`;
  return e;
}
