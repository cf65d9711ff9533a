// The output folder of `net-trim prune`: refused before any work when it cannot hold the output
// (a path through a file, a folder this user cannot write in, a kernel filesystem), and written all
// or nothing when a write fails late (a real failure: a file-size limit the weights exceed).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../examples/mnist-data.ts";
import { npy } from "./helpers/npy.ts";
import { expectOneLineError, ROOT } from "./helpers/cli.ts";
import { runLimited } from "./helpers/cli-spawn.ts";

const MODEL = path.join(ROOT, "models", "mnist-mlp", "model.json");
// A prune that would run for minutes: a refusal that comes after the work is started shows as a timeout.
const LONG = ["--mode", "cascade", "--epsilon-gain", "0.001", "--max-iter", "1000000"];

let tmp: string;
let calib: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "net-trim-cli-output-"));
  fs.chmodSync(tmp, 0o755); // readable by the other user of the EACCES case
  calib = path.join(tmp, "calib.npy");
  fs.writeFileSync(calib, npy(loadMnist().trainX.subarray(0, 50 * PIXELS), 50, PIXELS));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The entries of `dir` (to see that nothing, not even a staging folder, was left). */
const entries = (dir: string) => fs.readdirSync(dir).sort();

describe("net-trim prune: the output folder is checked before any work", () => {
  it("a path through a file (ENOTDIR) and an existing file", async () => {
    const file = path.join(tmp, "a-file");
    fs.writeFileSync(file, "x");
    const through = await runLimited(["prune", MODEL, "-c", calib, "-o", path.join(file, "sub"), ...LONG], { timeoutMs: 20_000 });
    expect(through.timedOut).toBe(false);
    expectOneLineError(through, 1, "-o/--out", `a path through a file (${file})`);
    const onFile = await runLimited(["prune", MODEL, "-c", calib, "-o", file, ...LONG], { timeoutMs: 20_000 });
    expectOneLineError(onFile, 1, "-o/--out", "expected a folder, received an existing file");
    expect(fs.readFileSync(file, "utf8")).toBe("x");
  });

  it("/proc, /sys and /dev are refused at once (a recursive mkdir under /proc never returns)", async () => {
    for (const dir of ["/proc/net-trim-out", "/sys/net-trim-out", "/dev/net-trim-out"]) {
      const r = await runLimited(["prune", MODEL, "-c", calib, "-o", dir, ...LONG], { timeoutMs: 20_000 });
      expect(r.timedOut, dir).toBe(false);
      expectOneLineError(r, 1, `-o/--out ${dir}`, "a kernel filesystem");
      expect(fs.existsSync(dir), dir).toBe(false);
    }
  });

  it("a folder this user cannot write in (EACCES), found by a probe: as root, the CLI runs as nobody (root ignores permission bits)", async () => {
    const locked = path.join(tmp, "locked");
    fs.mkdirSync(locked);
    fs.chmodSync(locked, 0o555);
    const asRoot = process.getuid?.() === 0;
    const r = await runLimited(["prune", MODEL, "-c", calib, "-o", path.join(locked, "out"), ...LONG], { timeoutMs: 20_000, ...(asRoot ? { uid: 65534 } : {}) });
    expectOneLineError(r, 1, `-o/--out ${path.join(locked, "out")}`, `a folder this user can write in (${locked})`, "EACCES");
    expect(entries(locked)).toEqual([]);
  });
});

describe("net-trim prune: the inputs are checked before any work", () => {
  /** The bundled MLP copied into a folder of its own, its model.json or weight bytes changed. */
  function modelCopy(name: string, edit: { modelJson?: (text: string) => string; weights?: (b: Buffer) => void }): string {
    const src = path.dirname(MODEL), dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    const mj = fs.readFileSync(MODEL, "utf8");
    for (const f of (JSON.parse(mj).weightsManifest as { paths: string[] }[]).flatMap((g) => g.paths)) {
      const b = fs.readFileSync(path.join(src, f));
      edit.weights?.(b);
      fs.writeFileSync(path.join(dir, f), b);
    }
    fs.writeFileSync(path.join(dir, "model.json"), edit.modelJson ? edit.modelJson(mj) : mj);
    return path.join(dir, "model.json");
  }

  it("a NaN weight, a calibration of 0 samples: exit 1 naming them, before the prune starts", async () => {
    const nan = modelCopy("nan-weight", { weights: (b) => b.writeFloatLE(NaN, 40) }); // hidden1 kernel[0][10]
    const r = await runLimited(["prune", nan, "-c", calib, "-o", path.join(tmp, "never1"), ...LONG], { timeoutMs: 20_000 });
    expectOneLineError(r, 1, "hidden1", "NaN");
    const zero = path.join(tmp, "zero.npy");
    fs.writeFileSync(zero, npy(new Float32Array(0), 0, PIXELS));
    const z = await runLimited(["prune", MODEL, "-c", zero, "-o", path.join(tmp, "never2"), ...LONG], { timeoutMs: 20_000 });
    expectOneLineError(z, 1, zero, "expected at least 1 sample, received 0");
  });

  it("a JSON calibration longer than JavaScript's longest string: refused by size, naming the file (not a raw string-length error)", async () => {
    const big = path.join(tmp, "big.json");
    fs.writeFileSync(big, "[[0]]");
    fs.truncateSync(big, 2 ** 29); // sparse: no 512 MiB written
    const r = await runLimited(["prune", MODEL, "-c", big, "-o", path.join(tmp, "never4"), ...LONG], { timeoutMs: 20_000 });
    expectOneLineError(r, 1, big, "at most 536870888 bytes", "received 536870912 bytes", ".npy");
  });

  it("a model with a deeply nested ignored field is refused before the prune, not after it", async () => {
    // A field the reader ignores, nested 20,000 deep: writing it back overflowed the stack after all the
    // work. The reader now refuses such nesting (json-depth.ts); checkWritable stays as the second guard.
    const deep = modelCopy("deep-field", { modelJson: (t) => t.replace('"modelTopology":{', `"modelTopology":{"ignored":${"[".repeat(20000)}${"]".repeat(20000)},`) });
    const r = await runLimited(["prune", deep, "-c", calib, "-o", path.join(tmp, "never3"), ...LONG], { timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.stderr).not.toContain("net-trim: pruning "); // the note printed when the work starts
    expectOneLineError(r, 1, "model.json", "nested at most 64 levels deep", "modelTopology.ignored");
    expect(fs.existsSync(path.join(tmp, "never3"))).toBe(false);
  });
});

describe("net-trim prune: the output is written all or nothing", () => {
  // ulimit -f 600 (KiB): model.json (2.7 kB) is written, weights.bin (1,066,440 B) fails with EFBIG.
  const quick = ["--samples", "50", "--max-iter", "20", "-q"];

  it("a write that fails after the first file leaves no folder and no staging entry", async () => {
    const parent = path.join(tmp, "late");
    fs.mkdirSync(parent);
    const out = path.join(parent, "nested", "out");
    const r = await runLimited(["prune", MODEL, "-c", calib, "-o", out, ...quick], { fileSizeLimitKiB: 600 });
    expect(entries(parent)).toEqual([]);
    expectOneLineError(r, 1, `-o/--out ${out}: the files could not be written (EFBIG`, "nothing was changed there");
  });

  it("with --force over a complete output, the failure leaves the old files byte for byte", async () => {
    const out = path.join(tmp, "forced");
    const first = await runLimited(["prune", MODEL, "-c", calib, "-o", out, ...quick]);
    expect(first.code, first.stderr).toBe(0);
    const names = ["masks.json", "model.json", "report.json", "weights.bin"];
    expect(entries(out)).toEqual(names);
    const before = names.map((n) => fs.readFileSync(path.join(out, n)));
    const r = await runLimited(["prune", MODEL, "-c", calib, "-o", out, ...quick, "--epsilon-gain", "0.2", "--force"], { fileSizeLimitKiB: 600 });
    expect(entries(out)).toEqual(names);
    names.forEach((n, i) => expect(fs.readFileSync(path.join(out, n)).equals(before[i]), n).toBe(true));
    expectOneLineError(r, 1, "EFBIG", "nothing was changed there");
    // Without the limit the same command replaces them all.
    const again = await runLimited(["prune", MODEL, "-c", calib, "-o", out, ...quick, "--epsilon-gain", "0.2", "--force"]);
    expect(again.code, again.stderr).toBe(0);
    expect(entries(out)).toEqual(names);
    expect(JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")).options.epsilonGain).toBe(0.2);
  });
});
