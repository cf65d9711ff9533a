// Pictures of the surviving weights. A first layer on 28×28 images: the receptive fields of 16
// neurons spread over the layer (kept weights red/blue by sign, pruned ones white). Any other
// layer: its kept/zero mask, one row per neuron, one column per input.
import type { KernelPicture } from "./protocol.ts";
import { el, percent } from "./dom.ts";

const SIDE = 28;
const FIELDS = 16;

export function layerPicture(k: KernelPicture, first: boolean): HTMLElement {
  const kept = k.kernel.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
  const name = el("strong", {}, k.name);
  const title = `: ${kept.toLocaleString("en-US")} of ${k.kernel.length.toLocaleString("en-US")} weights kept (${percent(kept / k.kernel.length)})`;
  if (first && k.inputs === SIDE * SIDE) {
    return el("figure", { class: "picture" }, receptiveFields(k),
      el("figcaption", {}, name, `${title}. Receptive fields of ${Math.min(FIELDS, k.units)} of ${k.units} neurons (# neuron · weights kept): red positive, blue negative, white pruned.`));
  }
  return el("figure", { class: "picture" }, mask(k),
    el("figcaption", {}, name, `${title}. Mask: one row per neuron (${k.units}), one column per input (${k.inputs}); dark = kept.`));
}

function receptiveFields(k: KernelPicture): HTMLElement {
  const grid = el("div", { class: "fields" });
  const n = Math.min(FIELDS, k.units);
  for (let f = 0; f < n; f++) {
    const unit = Math.floor((f * k.units) / n);
    const canvas = el("canvas", { width: String(SIDE), height: String(SIDE) });
    const image = new ImageData(SIDE, SIDE);
    let max = 0, kept = 0;
    for (let i = 0; i < SIDE * SIDE; i++) max = Math.max(max, Math.abs(k.kernel[i * k.units + unit]));
    for (let i = 0; i < SIDE * SIDE; i++) {
      const w = k.kernel[i * k.units + unit];
      // sqrt: small surviving weights stay visible next to the largest one.
      const t = w === 0 || max === 0 ? 0 : Math.sqrt(Math.abs(w) / max);
      if (w !== 0) kept++;
      const fade = Math.round(255 * (1 - t));
      const [r, g, b] = w > 0 ? [255, fade, fade] : w < 0 ? [fade, fade, 255] : [255, 255, 255];
      image.data.set([r, g, b, 255], 4 * i);
    }
    canvas.getContext("2d")!.putImageData(image, 0, 0);
    canvas.title = `neuron ${unit}: ${kept} of ${SIDE * SIDE} weights kept`;
    grid.append(el("div", { class: "field" }, canvas, el("span", {}, `#${unit} · ${kept}`)));
  }
  return grid;
}

function mask(k: KernelPicture): HTMLCanvasElement {
  const canvas = el("canvas", { width: String(k.inputs), height: String(k.units), class: "mask" });
  const image = new ImageData(k.inputs, k.units);
  for (let u = 0; u < k.units; u++) {
    for (let i = 0; i < k.inputs; i++) {
      const v = k.kernel[i * k.units + u] !== 0 ? 30 : 255;
      image.data.set([v, v, v + (v === 30 ? 60 : 0), 255], 4 * (u * k.inputs + i));
    }
  }
  canvas.getContext("2d")!.putImageData(image, 0, 0);
  // Whole pixels per weight where they fit, at most the card's width.
  const scale = Math.max(1, Math.min(8, Math.floor(640 / k.inputs)));
  canvas.style.width = `${k.inputs * scale}px`;
  return canvas;
}
