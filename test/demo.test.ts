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
  });
});
