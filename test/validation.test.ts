// Every bad input is refused before any work, with an error naming the field, the expected and
// the received value; nothing the caller passed is modified.
import { describe, expect, it } from "vitest";
import { matrix, NonFiniteError, pruneLayer, ShapeError, ValidationError, NetTrimError } from "../bindings/index.ts";
import { randomLayer } from "./helpers/problems.ts";

const pr = randomLayer(1, 20, 5, 3);
const X = matrix(pr.input, 20, 5);
const Y = matrix(pr.output, 20, 3);

async function rejects(p: () => Promise<unknown>, cls: Function, ...fragments: string[]) {
  let error: unknown;
  try {
    await p();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(cls);
  expect(error).toBeInstanceOf(NetTrimError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

describe("pruneLayer refuses bad input", () => {
  it("sample counts that differ", async () => {
    const Y2 = matrix(new Float32Array(19 * 3), 19, 3);
    await rejects(() => pruneLayer(X, Y2), ShapeError, "input has 20 samples", "output has 19");
  });
  it("data length that does not match rows × cols", async () => {
    await rejects(() => pruneLayer({ data: new Float32Array(7), rows: 2, cols: 5 }, Y), ShapeError, "input.data has length 7", "2 × 5 = 10");
  });
  it("a flat typed array without a shape", async () => {
    await rejects(() => pruneLayer(pr.input as never, Y), ValidationError, "input", "Float32Array of length 100");
  });
  it("ragged rows", async () => {
    await rejects(() => pruneLayer([[1, 2], [3]], [[1], [2]]), ShapeError, "input[1] has 1 entries", "input[0] has 2");
  });
  it("NaN and Infinity, with the index", async () => {
    const bad = pr.input.slice();
    bad[2 * 5 + 3] = NaN;
    await rejects(() => pruneLayer(matrix(bad, 20, 5), Y), NonFiniteError, "input[2][3] is NaN");
    const badY = pr.output.slice();
    badY[4 * 3 + 1] = -Infinity;
    await rejects(() => pruneLayer(X, matrix(badY, 20, 3)), NonFiniteError, "output[4][1] is -Infinity");
    await rejects(() => pruneLayer([[1, Infinity]], [[1]]), NonFiniteError, "input[0][1] is Infinity");
  });
  it("negative epsilon, and epsilon with epsilonGain", async () => {
    await rejects(() => pruneLayer(X, Y, { epsilon: -1 }), ValidationError, "options.epsilon", "≥ 0", "-1");
    await rejects(() => pruneLayer(X, Y, { epsilon: 1, epsilonGain: 0.1 }), ValidationError, "either epsilon or epsilonGain");
    await rejects(() => pruneLayer(X, Y, { epsilonGain: NaN }), ValidationError, "options.epsilonGain", "NaN");
  });
  it("unknown option names", async () => {
    await rejects(() => pruneLayer(X, Y, { epsilonGian: 0.1 } as never), ValidationError, "options.epsilonGian", "known options");
  });
  it("option values out of range, each in turn", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "sigmoid" }, "options.kind"],
      [{ maxIter: 0 }, "options.maxIter"],
      [{ maxIter: 2.5 }, "options.maxIter"],
      [{ timeLimitMs: 0 }, "options.timeLimitMs"],
      [{ alpha: 2 }, "options.alpha"],
      [{ alpha: 0.5 }, "options.alpha"],
      [{ rho: -3 }, "options.rho"],
      [{ rho: "big" }, "options.rho"],
      [{ relTol: 2 }, "options.relTol"],
      [{ dualRelTol: -1 }, "options.dualRelTol"],
      [{ absTol: -1e-9 }, "options.absTol"],
      [{ feasTol: 5 }, "options.feasTol"],
      [{ checkInterval: 0 }, "options.checkInterval"],
      [{ activeThreshold: -1 }, "options.activeThreshold"],
      [{ adaptiveRho: "yes" }, "options.adaptiveRho"],
      [{ sparseInput: "maybe" }, "options.sparseInput"],
      [{ signal: {} }, "options.signal"],
      [{ onProgress: 3 }, "options.onProgress"],
    ];
    for (const [opts, field] of cases) await rejects(() => pruneLayer(X, Y, opts as never), ValidationError, field);
  });
  it("an upper bound of the wrong shape, or on a linear layer", async () => {
    await rejects(() => pruneLayer(X, Y, { upperBound: matrix(new Float32Array(6), 2, 3) }), ShapeError, "options.upperBound is 2 × 3", "20 × 3");
    await rejects(() => pruneLayer(X, Y, { kind: "linear", upperBound: Y }), ValidationError, "options.upperBound");
  });
  it("a warm start of the wrong size", async () => {
    await rejects(
      () => pruneLayer(X, Y, { warmStart: { weights: new Float32Array(14), bias: new Float32Array(3) } }),
      ShapeError, "warmStart.weights has length 14", "5 inputs × 3 outputs = 15",
    );
  });
  it("leaves the caller's arrays unchanged", async () => {
    const input = pr.input.slice();
    const output = pr.output.slice();
    const input64 = Float64Array.from(pr.input);
    await pruneLayer(matrix(input, 20, 5), matrix(output, 20, 3), { maxIter: 50 });
    await pruneLayer(matrix(input64, 20, 5), matrix(output, 20, 3), { maxIter: 50 });
    expect(input).toEqual(pr.input);
    expect(output).toEqual(pr.output);
    expect(input64).toEqual(Float64Array.from(pr.input));
  });
});
