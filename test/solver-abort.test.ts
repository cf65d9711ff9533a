// An abort reaches the solver within a slice of an interval, not at the interval's end: with a
// signal, the controller runs a long check interval in slices of about 25 ms with a yield and an
// abort check between them, and gathers the same bits as without.
import { describe, expect, it } from "vitest";
import { pruneLayer } from "../bindings/index.ts";
import { randomLayer } from "./helpers/problems.ts";

const p = randomLayer(7, 200, 50, 20);
const X = { data: p.input, rows: p.P, cols: p.N };
const Y = { data: p.output, rows: p.P, cols: p.M };
const tight = { relTol: 1e-12, dualRelTol: 1e-12 };

describe("pruneLayer with a signal", () => {
  it("an abort during a long check interval ends the solve within it", async () => {
    // One interval of 20,000 iterations (about 0.15 ms each here: 3 s). Before, JS regained control
    // only at its end, so the abort timer could not even fire: the solve ran every iteration.
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const r = await pruneLayer(X, Y, { maxIter: 20_000, checkInterval: 20_000, ...tight, signal: ctl.signal });
    expect(r.status).toBe("aborted");
    // Not "> 0": on a loaded machine the setup can outlast the 100 ms timer, and an abort before
    // the first iteration is as right. What is checked is that it did not run the whole interval.
    expect(r.info.iterations).toBeLessThan(20_000);
    expect(r.weights.every(Number.isFinite)).toBe(true);
    expect(r.info.outputError).toBeGreaterThan(0); // measured on the returned weights
  });

  it("gives the same bits as without a signal (the slices run the same iterations)", async () => {
    const options = { maxIter: 3000, checkInterval: 500, ...tight };
    const withSignal = await pruneLayer(X, Y, { ...options, signal: new AbortController().signal });
    const without = await pruneLayer(X, Y, options);
    expect(withSignal.status).toBe(without.status);
    expect(withSignal.info.iterations).toBe(without.info.iterations);
    expect(Buffer.from(withSignal.weights.buffer).equals(Buffer.from(without.weights.buffer))).toBe(true);
    expect(Buffer.from(withSignal.bias.buffer).equals(Buffer.from(without.bias.buffer))).toBe(true);
    expect(withSignal.info.primalResidual).toBe(without.info.primalResidual);
  });
});
