// A property test of the ONNX reader (fast-check, fixed seed): real exported models with bytes
// flipped, cut, inserted or overwritten, and with decoded fields set to odd values, must either
// read as a graph (which then writes back) or be refused with a NetTrimError: never a TypeError,
// RangeError or a hang (each case is timed). The structured target (test/helpers/fuzz-targets.ts)
// adds NaN/∞ weights, prototype names as op types, and checks what is accepted: consistent, and
// written then read back to the same weights bit for bit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NetTrimError, parseOnnxModel, writeOnnxModel } from "../bindings/index.ts";
import { decodeModel, encodeModel } from "../bindings/formats/onnx/schema.ts";
import { fixtureBytes } from "./helpers/onnx.ts";
import { assertTarget } from "./helpers/fuzz-property.ts";
import { onnxTarget } from "./helpers/fuzz-targets.ts";

const FILES = ["mlp-opset13.onnx", "cnn-opset11.onnx", "branches-opset17.onnx", "depthwise-opset10.onnx", "matmul-extra.onnx", "conv-bn.onnx"];
const models = FILES.map(fixtureBytes);

/** Reads the bytes; returns "read" or "refused", throws anything that is not a NetTrimError. */
function outcome(bytes: Uint8Array): string {
  const start = performance.now();
  try {
    const { graph, source } = parseOnnxModel(bytes);
    writeOnnxModel(graph, source, { sparse: true });
    return "read";
  } catch (e) {
    if (!(e instanceof NetTrimError)) throw e;
    return "refused";
  } finally {
    expect(performance.now() - start).toBeLessThan(5_000);
  }
}

const byteEdit = fc.record({
  model: fc.integer({ min: 0, max: models.length - 1 }),
  kind: fc.constantFrom("flip", "cut", "insert", "overwrite"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

const ODD_NUMBERS = [0, -1, 1, 2, 3, 7, 10, 18, 2 ** 31, -(2 ** 40), 1e15];

describe("ONNX reader on mutated models", () => {
  it("byte edits: read or a NetTrimError", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(byteEdit, ({ model, kind, at, bytes }) => {
        const src = models[model];
        const i = Math.floor(at * src.length);
        let out: Uint8Array;
        if (kind === "cut") out = src.slice(0, i);
        else if (kind === "insert") out = new Uint8Array([...src.subarray(0, i), ...bytes, ...src.subarray(i)]);
        else {
          out = src.slice();
          bytes.forEach((b, k) => { if (i + k < out.length) out[i + k] = kind === "flip" ? out[i + k] ^ (b || 1) : b; });
        }
        seen.add(outcome(out));
      }),
      { seed: 20261202, numRuns: 1500 },
    );
    expect(seen).toEqual(new Set(["read", "refused"]));
  });

  it("decoded fields set to odd values (dims, attributes, op types, names): read or a NetTrimError", () => {
    const field = fc.record({
      model: fc.integer({ min: 0, max: models.length - 1 }),
      target: fc.constantFrom("dim", "attrInt", "attrInts", "opType", "input", "dataType", "opset"),
      pick: fc.nat(),
      value: fc.constantFrom(...ODD_NUMBERS),
      op: fc.constantFrom("Relu", "Gemm", "Conv", "MaxPool", "Concat", "Reshape", "Flatten", "Add", "Softmax", "Constant", "Pad", "BatchNormalization", "Loop"),
    });
    fc.assert(
      fc.property(field, ({ model, target, pick, value, op }) => {
        const m = decodeModel(models[model]);
        const g = m.graph!;
        const nodes = g.node!;
        const n = nodes[pick % nodes.length];
        switch (target) {
          case "dim": {
            const t = g.initializer![pick % g.initializer!.length];
            if (t.dims!.length) t.dims![pick % t.dims!.length] = value;
            break;
          }
          case "attrInt": if (n.attribute?.length) n.attribute[pick % n.attribute.length].i = value; break;
          case "attrInts": if (n.attribute?.length) n.attribute[pick % n.attribute.length].ints = [value, value]; break;
          case "opType": n.op_type = op; break;
          case "input": if (n.input?.length) n.input[pick % n.input.length] = nodes[(pick * 7) % nodes.length].output![0]; break;
          case "dataType": g.initializer![pick % g.initializer!.length].data_type = Math.abs(value) % 17; break;
          case "opset": m.opset_import![0].version = value; break;
        }
        outcome(encodeModel(m));
      }),
      { seed: 1202, numRuns: 1500 },
    );
  });

  it("structured edits (fields, NaN/∞ weights, op_type names, bytes): consistent and round-trips exactly, or a NetTrimError", () => {
    const tally = assertTarget(onnxTarget, 20261203, 2000);
    expect(tally.ModelFormatError).toBeGreaterThan(1000);
    expect(tally.accepted).toBeGreaterThan(200);
  });
});
