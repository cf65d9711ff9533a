// The visible message box, and one sentence for any error (the library's NetTrimError family,
// the page's FileProblem, errors from the worker).
import { NetTrimError } from "./lib.ts";
import { byId, el } from "./dom.ts";
import { FileProblem } from "./file-problem.ts";
import { WorkerError } from "./worker-client.ts";

export function explain(e: unknown): string {
  if (e instanceof FileProblem) return e.message;
  // ModelFormatError, ShapeError, ValidationError... name the class: it says which kind of problem.
  if (e instanceof NetTrimError) return `${e.name}: ${e.message}`;
  if (e instanceof WorkerError) return `${e.name}: ${e.message}`;
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

export function showMessage(messages: string[]): void {
  const box = byId("message");
  box.replaceChildren(...messages.map((m) => el("p", {}, m)));
  box.hidden = messages.length === 0;
}
