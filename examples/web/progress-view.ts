// One progress bar per layer. ADMM stops when both residuals fall below their tolerances, so
// the bar follows max(primal/tolerance, dual/tolerance) on a log scale from where the layer
// started down to 1 (done), never below the share of the iteration cap used, never backwards.
import type { NetworkProgress } from "./lib.ts";
import { el, sci } from "./dom.ts";

interface Row {
  bar: HTMLElement;
  fill: HTMLElement;
  detail: HTMLElement;
  start?: number;
  fraction: number;
}

export class ProgressView {
  private rows: Row[] = [];

  constructor(private readonly root: HTMLElement, private readonly maxIter: number) {}

  reset(names: string[]): void {
    this.rows = names.map(() => {
      const fill = el("div", { class: "fill" });
      const bar = el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
      return { bar, fill, detail: el("span", { class: "detail" }, "waiting"), fraction: 0 };
    });
    this.root.replaceChildren(
      ...names.map((name, i) => el("div", { class: "layer-progress" }, el("span", { class: "name" }, name), this.rows[i].bar, this.rows[i].detail)),
    );
  }

  update(p: NetworkProgress): void {
    const row = this.rows[p.layer];
    if (!row) return;
    if (p.phase === "done") {
      this.set(row, 1);
      row.detail.textContent = `done in ${p.iteration ?? "?"} iterations`;
      return;
    }
    const ratio = Math.max(
      (p.primalResidual ?? Infinity) / (p.primalTolerance ?? 1),
      (p.dualResidual ?? Infinity) / (p.dualTolerance ?? 1),
    );
    let fraction = (p.iteration ?? 0) / this.maxIter;
    if (Number.isFinite(ratio) && ratio > 0) {
      row.start ??= Math.max(ratio, 10);
      fraction = Math.max(fraction, Math.log(row.start / Math.max(ratio, 1)) / Math.log(row.start));
    }
    this.set(row, Math.min(0.99, fraction));
    row.detail.textContent =
      `iteration ${p.iteration ?? 0} · primal residual ${sci(p.primalResidual)} (tol ${sci(p.primalTolerance)}) · ` +
      `dual ${sci(p.dualResidual)} (tol ${sci(p.dualTolerance)})`;
  }

  /** Marks the layers a cancelled run never reached. */
  stopped(text: string): void {
    for (const row of this.rows) if (row.fraction < 1) row.detail.textContent = text;
  }

  private set(row: Row, fraction: number): void {
    row.fraction = Math.max(row.fraction, fraction);
    row.fill.style.width = `${(100 * row.fraction).toFixed(1)}%`;
    row.bar.setAttribute("aria-valuenow", (100 * row.fraction).toFixed(0));
  }
}
