// Read the bundled TF.js model, prune it, write it back, load the written files with
// @tensorflow/tfjs itself: its predictions match net-trim's forward pass within 1e-5 relative,
// and the masks mark exactly the zeros.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { forward, masksOf, pruneNetwork, writeLayersModel } from "../bindings/index.ts";
import { readLayersModelDir, writeLayersModelDir } from "../bindings/node/files.ts";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";

async function tfLoadDir(dir: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: string | URL | Request) => {
    const file = path.join(dir, decodeURIComponent(new URL(String(url)).pathname).slice(1));
    if (!fs.existsSync(file)) return new Response("not found", { status: 404 });
    return new Response(new Uint8Array(fs.readFileSync(file)), { status: 200 });
  };
  return tf.loadLayersModel(tf.io.http("http://model.test/model.json", { fetchFunc: fetchFunc as typeof fetch }));
}

describe("TF.js round trip of a pruned model", () => {
  it("pruned with net-trim, written, loaded by @tensorflow/tfjs: the same predictions", async () => {
    await tf.setBackend("cpu");
    const read = readLayersModelDir(path.resolve("models/mnist-mlp/model.json"));
    const { trainX, testX } = loadMnist();
    const P = 400;
    const result = await pruneNetwork(read.network, { data: trainX.subarray(0, P * PIXELS), rows: P, cols: PIXELS }, {
      mode: "cascade", epsilonGain: 0.05, workers: 0,
    });
    expect(result.layers.every((l) => l.nnzAfter < l.nnzBefore)).toBe(true);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-roundtrip-"));
    writeLayersModelDir(out, writeLayersModel(read.modelJson, result.network, { test: true }));

    const model = await tfLoadDir(out);
    const rows = 100;
    const x = testX.subarray(0, rows * PIXELS);
    const theirs = tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, PIXELS])) as tf.Tensor).dataSync() as Float32Array);
    const ours = forward(result.network, x, rows).at(-1)!;
    let num = 0, den = 0;
    for (let i = 0; i < ours.length; i++) { num += (ours[i] - theirs[i]) ** 2; den += ours[i] ** 2; }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);

    // The loaded kernels carry our zeros, and the masks mark exactly them.
    const masks = masksOf(result.network);
    result.network.layers.forEach((l, i) => {
      const kernel = model.getLayer(l.name).getWeights()[0].dataSync();
      let zeroMismatch = 0, maskMismatch = 0;
      for (let k = 0; k < kernel.length; k++) {
        if ((kernel[k] === 0) !== (l.kernel[k] === 0)) zeroMismatch++;
        if (masks[i].mask[k] !== (l.kernel[k] !== 0 ? 1 : 0)) maskMismatch++;
      }
      expect(zeroMismatch).toBe(0);
      expect(maskMismatch).toBe(0);
    });
  });
});
