// Download buttons for the pruned model (model.json + weights.bin), masks.json and report.json.
import type { Downloads } from "./protocol.ts";
import { el } from "./dom.ts";

function save(name: string, body: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadButtons(d: Downloads): HTMLElement {
  const button = (label: string, name: string, onClick: () => void) => {
    const b = el("button", { type: "button", class: "download", "data-file": name }, label);
    b.addEventListener("click", onClick);
    return b;
  };
  return el("div", { class: "downloads" },
    button("Pruned model (model.json + weights.bin)", "model.json", () => {
      // Two files: model.json references "weights.bin" by name, so keep them in one folder.
      save("model.json", d.modelJson, "application/json");
      setTimeout(() => save("weights.bin", d.weightData, "application/octet-stream"), 300);
    }),
    button("masks.json", "masks.json", () => save("masks.json", d.masksJson, "application/json")),
    button("report.json", "report.json", () => save("report.json", d.reportJson, "application/json")),
  );
}
