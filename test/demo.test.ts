// The main job (npm run demo) runs end to end on a small calibration set and reports honestly.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("the main job", () => {
  it("prunes the bundled model in both modes and prints the comparison", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "examples/prune-mnist.ts", "--samples", "300"], {
      cwd: new URL("..", import.meta.url).pathname, encoding: "utf8", timeout: 120_000,
    });
    expect(out).toContain("accuracy before pruning 96.65%");
    expect(out).toMatch(/Net-Trim parallel, gain 0\.05/);
    expect(out).toMatch(/Net-Trim cascade, gain 0\.03/);
    expect(out).toMatch(/magnitude, same nnz as parallel/);
    // Both guarantee lines are computed and hold.
    expect(out.match(/: holds$/gm)?.length).toBe(2);
    expect(out).not.toContain("VIOLATED");
    // Checked on the printed numbers, not on the library's verdict: in parallel mode every solved
    // layer's relative error is within its budget (gain 0.05), and at equal nonzeros Net-Trim's
    // logit error is below magnitude pruning's (the demo measures both on the test digits).
    const cells = (line: string) => line.split("│").map((c) => c.trim().replace(/^'|'$/g, ""));
    const parallel = out.slice(out.indexOf("parallel, gain 0.05: per layer"), out.indexOf("cascade, gain 0.03: per layer"));
    const rows = parallel.split("\n").map(cells).filter((c) => c[4] === "solved");
    expect(rows.length).toBeGreaterThan(0);
    for (const c of rows) expect(Number(c[8])).toBeLessThanOrEqual(0.05 * 1.001);
    const summary = out.slice(out.indexOf("Whole network")).split("\n").map(cells);
    const logitError = (method: RegExp) => Number(summary.find((c) => method.test(c[2] ?? ""))?.[7]);
    expect(logitError(/^Net-Trim parallel/)).toBeLessThan(logitError(/^magnitude, same nnz as parallel/));
    expect(logitError(/^Net-Trim cascade/)).toBeLessThan(logitError(/^magnitude, same nnz as cascade/));
  });
});
