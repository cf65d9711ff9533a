// The results of one run: the per-layer table, the guarantee line, test accuracy before and
// after, pictures of the surviving weights, and the downloads.
import type { Guarantee, LayerReport } from "./lib.ts";
import { count, el, percent, seconds } from "./dom.ts";
import { downloadButtons } from "./downloads.ts";
import type { PruneOutcome } from "./protocol.ts";
import { layerPicture } from "./weight-pictures.ts";

const GOOD = new Set(["solved", "solved_inaccurate"]);

function table(layers: LayerReport[]): HTMLTableElement {
  const head = ["layer", "status", "nonzeros before → after", "kept", "relative error", "iterations", "time"];
  const row = (l: LayerReport) => el("tr", {},
    el("td", { class: "name" }, l.name, el("small", {}, ` ${l.kind}`)),
    el("td", { class: "status" }, el("span", { class: `badge ${GOOD.has(l.status) ? "ok" : "warn"}` }, l.status)),
    el("td", { class: "num nnz" }, `${count(l.nnzBefore)} → ${count(l.nnzAfter)}`),
    el("td", { class: "num kept", "data-value": String(100 * l.keptFraction) }, percent(l.keptFraction)),
    el("td", { class: "num error" }, Number.isFinite(l.relativeError) ? l.relativeError.toFixed(4) : "–"),
    el("td", { class: "num" }, count(l.iterations)),
    el("td", { class: "num" }, seconds(l.timeMs)),
  );
  const total = layers.reduce((t, l) => ({ before: t.before + l.nnzBefore, after: t.after + l.nnzAfter, params: t.params + l.parameters }), { before: 0, after: 0, params: 0 });
  return el("table", { id: "layer-table" },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...layers.map(row)),
    el("tfoot", {}, el("tr", {},
      el("td", {}, "total"), el("td", {}),
      el("td", { class: "num" }, `${count(total.before)} → ${count(total.after)}`),
      el("td", { class: "num" }, percent(total.after / total.params)),
      el("td", { colspan: "3" }, `of ${count(total.params)} parameters`),
    )),
  );
}

function guaranteeLine(g: Guarantee): HTMLElement {
  return el("p", { id: "guarantee", class: g.holds ? "holds" : "violated" },
    el("strong", {}, `Guarantee, ${g.theorem}: `),
    `end-to-end error on the calibration data ${g.measuredError.toPrecision(4)} (relative ${g.relativeError.toFixed(4)}) `,
    `${g.holds ? "≤" : ">"} bound ${g.bound.toPrecision(4)}: `,
    el("strong", {}, g.holds ? "holds" : "does NOT hold"),
  );
}

function accuracyLine(a: NonNullable<PruneOutcome["accuracy"]>): HTMLElement {
  const delta = 100 * (a.after - a.before);
  return el("p", { id: "accuracy" },
    el("strong", {}, "Test accuracy "), `on ${count(a.samples)} held-out digits: `,
    el("span", { id: "accuracy-before", "data-value": String(100 * a.before) }, percent(a.before, 2)),
    " before → ",
    el("span", { id: "accuracy-after", "data-value": String(100 * a.after) }, percent(a.after, 2)),
    ` after pruning (${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(2)} points, no fine-tuning)`,
  );
}

export function renderResults(root: HTMLElement, o: PruneOutcome, noAccuracyReason: string | undefined): void {
  const parts: HTMLElement[] = [
    el("p", { class: "summary" }, `Status ${o.status} in ${seconds(o.timeMs)} (${o.simd ? "SIMD" : "scalar"} WebAssembly, in a Web Worker).`),
    table(o.layers),
  ];
  if (!o.downloads) {
    parts.push(el("p", { class: "note" }, "Cancelled: the layers above stopped early, so there is no pruned model to test or save. Press Prune to run again."));
    root.replaceChildren(...parts);
    return;
  }
  parts.push(guaranteeLine(o.guarantee));
  if (o.accuracy) parts.push(accuracyLine(o.accuracy));
  else if (noAccuracyReason) parts.push(el("p", { class: "note" }, noAccuracyReason));
  parts.push(
    el("h3", {}, "Download"), downloadButtons(o.downloads),
    el("h3", {}, "Surviving weights"),
    el("div", { class: "pictures" }, ...o.kernels.map((k, i) => layerPicture(k, i === 0))),
  );
  root.replaceChildren(...parts);
}
