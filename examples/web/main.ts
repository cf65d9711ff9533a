// The page: wires the inputs (bundled MNIST or the user's files), the settings, the pruning
// worker and the views. Every failure ends up in the visible message box, never only in the console.
import "./styles.css";
import type { Digits } from "./digits-format.ts";
import { byId, count } from "./dom.ts";
import { explain, showMessage } from "./messages.ts";
import { ProgressView } from "./progress-view.ts";
import { renderResults } from "./results-view.ts";
import {
  bundledCalibration, describe, loadBundled, loadUserCalibration, loadUserModel, mismatch, takesMnist,
  type CalibrationSource, type ModelSource,
} from "./sources.ts";
import { watchFiles } from "./file-input.ts";
import { PruneClient } from "./worker-client.ts";

const MAX_ITER = 2000; // the library's default iteration cap, for the progress bars

let digits: Digits | undefined;
let bundledModel: ModelSource | undefined;
let model: ModelSource | undefined;
let calibration: CalibrationSource | undefined;
/** Files given so far by name, so that a model.json and its shards may come in separate picks. */
const given = new Map<string, File>();
let waitingModel: File | undefined;

const client = new PruneClient();
const progress = new ProgressView(byId("progress"), MAX_ITER);
const pruneButton = byId<HTMLButtonElement>("prune");
const cancelButton = byId<HTMLButtonElement>("cancel");
const samplesInput = byId<HTMLInputElement>("samples");
const gainInput = byId<HTMLInputElement>("gain");
const modeSelect = byId<HTMLSelectElement>("mode");

/** Why the current inputs cannot be pruned, if they cannot. */
function problem(): string | undefined {
  if (!model || !calibration) return "Loading the bundled model and digits…";
  return mismatch(model, calibration);
}

function refresh(): void {
  byId("model-summary").textContent = model ? `${model.label}: ${describe(model.network)}` : "loading…";
  byId("data-summary").textContent = calibration
    ? `${calibration.label}: ${count(calibration.rows)} samples × ${count(calibration.cols)} features`
    : "loading…";
  if (calibration) {
    samplesInput.max = String(calibration.rows);
    byId("samples-max").textContent = `of ${count(calibration.rows)}`;
  }
  byId("use-bundled").hidden = !!model?.bundled && !!calibration?.bundled;
  const p = problem();
  pruneButton.disabled = client.busy || p !== undefined;
  pruneButton.title = p ?? "";
}

async function addFiles(files: File[]): Promise<void> {
  const messages: string[] = [];
  const npy = files.filter((f) => f.name.toLowerCase().endsWith(".npy"));
  const json = files.filter((f) => f.name.toLowerCase().endsWith(".json"));
  for (const f of files) if (!npy.includes(f) && !json.includes(f)) given.set(f.name, f);
  if (json.length > 1) messages.push(`${json.length} .json files given (${json.map((f) => f.name).join(", ")}): give one model.json at a time.`);
  if (json.length > 0) waitingModel = json[json.length - 1];
  if (waitingModel && (json.length > 0 || files.length > npy.length)) {
    const file = waitingModel;
    try {
      model = await loadUserModel(file, given);
      waitingModel = undefined;
    } catch (e) {
      messages.push(`${explain(e)}${model ? ` The page keeps using the ${model.label}.` : ""}`);
    }
  } else if (!waitingModel && files.length > npy.length + json.length) {
    messages.push(`Got ${files.filter((f) => !npy.includes(f) && !json.includes(f)).map((f) => f.name).join(", ")}: now add the model.json they belong to.`);
  }
  for (const f of npy.slice(-1)) {
    try {
      calibration = await loadUserCalibration(f);
    } catch (e) {
      messages.push(`${explain(e)}${calibration ? ` The page keeps using the ${calibration.label}.` : ""}`);
    }
  }
  const p = problem();
  if (p && !messages.includes(p)) messages.push(p);
  showMessage(messages);
  refresh();
}

function useBundled(): void {
  if (!bundledModel || !digits) return;
  model = bundledModel;
  calibration = bundledCalibration(digits);
  given.clear();
  waitingModel = undefined;
  showMessage([]);
  refresh();
}

async function prune(): Promise<void> {
  const p = problem();
  if (p || !model || !calibration) return showMessage([p ?? "Nothing to prune yet."]);
  const gain = Number(gainInput.value);
  const wanted = Math.floor(Number(samplesInput.value));
  if (!(gain > 0 && Number.isFinite(gain))) return showMessage([`The ε gain must be a positive number (received "${gainInput.value}").`]);
  if (!(wanted >= 1)) return showMessage([`The calibration sample count must be at least 1 (received "${samplesInput.value}").`]);
  const rows = Math.min(wanted, calibration.rows);
  samplesInput.value = String(rows);
  const test = digits && takesMnist(model.network, digits) ? { x: digits.testX, labels: digits.testLabels } : undefined;
  showMessage([]);
  progress.reset(model.network.layers.map((l) => l.name));
  byId("results").replaceChildren();
  setBusy(true);
  try {
    const outcome = await client.run({
      type: "prune", modelJson: model.modelJson, weights: model.weights, modelLabel: model.label,
      calibrationLabel: calibration.label, calibration: calibration.data.slice(0, rows * calibration.cols),
      rows, cols: calibration.cols, test, mode: modeSelect.value === "cascade" ? "cascade" : "parallel", epsilonGain: gain,
    }, (p) => progress.update(p));
    if (outcome.status === "aborted") progress.stopped("cancelled");
    renderResults(byId("results"), outcome, test ? undefined : "Test accuracy is shown for models that map 784 pixels to 10 classes (the bundled MNIST digits).");
  } catch (e) {
    progress.stopped("failed");
    showMessage([explain(e)]);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy: boolean): void {
  cancelButton.disabled = !busy;
  document.body.classList.toggle("busy", busy);
  refresh();
}

pruneButton.addEventListener("click", () => void prune());
cancelButton.addEventListener("click", () => client.cancel());
byId("use-bundled").addEventListener("click", useBundled);
watchFiles(byId<HTMLInputElement>("files"), byId("drop-zone"), (files) => void addFiles(files));
// Last resort: anything that escapes the handlers above is still shown on the page.
window.addEventListener("unhandledrejection", (e) => showMessage([explain(e.reason)]));
window.addEventListener("error", (e) => showMessage([explain(e.error ?? e.message)]));

refresh();
loadBundled().then((b) => {
  bundledModel = b.model;
  digits = b.digits;
  samplesInput.value = String(Math.min(Number(samplesInput.value) || 1000, b.digits.trainLabels.length));
  if (!model) model = b.model;
  if (!calibration) calibration = bundledCalibration(b.digits);
  refresh();
}, (e) => showMessage([`Could not load the bundled MNIST model and digits: ${explain(e)}`]));
