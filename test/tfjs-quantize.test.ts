// writeLayersModelGraph(..., { quantize }): TF.js's own quantized weight storage. TF.js loads the
// file as it is and predicts what our forward pass gives on the weights our reader decodes; zeros
// stay exact zeros; each value is within one step (scale) of the original for uint8/uint16, and is
// the nearest float16 for float16 (checked against Math.fround-free arithmetic: a half has at most
// 11 significant bits).
import { describe, expect, it } from "vitest";
import { forwardGraph, isPrunable, magnitudePruneGraph, parseLayersModelGraph, ValidationError, writeLayersModelGraph, type ModelGraph } from "../bindings/index.ts";
import { readLayersModelBytes } from "../bindings/node/files.ts";
import { loadMnist } from "../examples/mnist-data.ts";
import { loadFromMemory, relativeDeviation, tfPredict } from "./helpers/tfjs-models.ts";

const files = readLayersModelBytes("models/mnist-cnn");
const graph = parseLayersModelGraph(files.modelJson, files.weightData);
const keep = Object.fromEntries(graph.nodes.filter(isPrunable).map((n) => [n.name, Math.round((n.kernel.length + (n.bias?.length ?? 0)) * 0.2)]));
const pruned = magnitudePruneGraph(graph, keep);
const weights = (g: ModelGraph) => g.nodes.flatMap((n) => Object.entries(n).filter(([, v]) => v instanceof Float32Array).map(([k, v]) => [`${n.name}.${k}`, v as Float32Array] as const));

describe("TF.js quantized weights", () => {
  for (const quantize of ["uint8", "uint16", "float16"] as const) {
    it(`${quantize}: loads in TF.js, predicts our forward pass on the decoded weights, zeros exact, error bounded`, async () => {
      const written = writeLayersModelGraph(files.modelJson, pruned, undefined, { quantize });
      const bytesPerValue = { uint8: 1, uint16: 2, float16: 2 }[quantize];
      expect(written.weightData.byteLength).toBe(34622 * bytesPerValue);
      const manifest = (written.modelJson.weightsManifest as { weights: { quantization: { dtype: string } }[] }[])[0].weights;
      expect(manifest.every((w) => w.quantization.dtype === quantize)).toBe(true);
      const back = parseLayersModelGraph(written.modelJson, written.weightData);
      const original = new Map(weights(pruned));
      weights(back).forEach(([name, values]) => {
        const before = original.get(name)!;
        let lo = 0, hi = 0;
        for (const v of before) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        const step = quantize === "float16" ? 0 : (hi - lo) / (quantize === "uint8" ? 255 : 65535);
        values.forEach((v, k) => {
          const w = before[k];
          if (w === 0) expect(v).toBe(0);
          else if (quantize === "float16") {
            // The nearest half: within half a unit in the 11th significant bit.
            const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(w))), -14) - 10);
            expect(Math.abs(v - w)).toBeLessThanOrEqual(ulp / 2);
            expect(Number.isInteger(v / ulp)).toBe(true);
          } else {
            expect(Math.abs(v - w)).toBeLessThanOrEqual(step * (1 + 1e-6));
          }
        });
      });
      const model = await loadFromMemory(written.modelJson, written.weightData);
      const x = loadMnist().testX.subarray(0, 20 * 784);
      const theirs = tfPredict(model, [x], 20)[0];
      const ours = forwardGraph(back, [x], 20).outputs[0];
      expect(relativeDeviation(theirs, ours)).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it("an unknown quantization refused by name", () => {
    expect(() => writeLayersModelGraph(files.modelJson, pruned, undefined, { quantize: "int4" as "uint8" })).toThrow(ValidationError);
    expect(() => writeLayersModelGraph(files.modelJson, pruned, undefined, { quantize: "int4" as "uint8" })).toThrow('options.quantize: expected "uint8", "uint16" or "float16", received "int4"');
  });
});
