// The class name of an error, for the message box. The library sets `name` from the class
// (`new.target.name`), which a minifying build renames ("o: ..."), so the known classes are
// recognised with instanceof instead.
import {
  ModelFormatError, NetTrimError, NonFiniteError, OutOfMemoryError, ShapeError, ValidationError, WasmUnavailableError,
} from "./lib.ts";

const KNOWN: [string, abstract new (...args: never[]) => Error][] = [
  ["ModelFormatError", ModelFormatError], ["ValidationError", ValidationError], ["ShapeError", ShapeError],
  ["NonFiniteError", NonFiniteError], ["OutOfMemoryError", OutOfMemoryError], ["WasmUnavailableError", WasmUnavailableError],
  ["NetTrimError", NetTrimError],
];

export function errorName(e: Error): string {
  return KNOWN.find(([, type]) => e instanceof type)?.[0] ?? e.name;
}
