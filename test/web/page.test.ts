// The web page (examples/web) end to end: built with Vite's JS API into a temporary folder,
// served as static files, driven in Debian's Chromium through playwright (no browser download).
// It prunes the bundled MNIST model on 300 digits, cancels a bigger run, and refuses bad files
// with a visible message; any page error or console error fails the test.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright";
import { build } from "vite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadMnist, PIXELS } from "../../examples/mnist-data.ts";
import { launchChromium, serveDir } from "../helpers/browser.ts";
import { npy } from "../helpers/npy.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const artifacts = join(repo, "test", "artifacts"); // gitignored

describe("examples/web", () => {
  let out: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    for (const f of ["net-trim-simd.wasm", "net-trim-scalar.wasm"]) {
      if (!existsSync(join(repo, "build", f))) throw new Error(`build/${f} is missing: run npm run asbuild first`);
    }
    mkdirSync(artifacts, { recursive: true });
    out = mkdtempSync(join(tmpdir(), "net-trim-web-"));
    await build({ configFile: join(repo, "examples", "web", "vite.config.ts"), logLevel: "error", build: { outDir: out, emptyOutDir: true } });
    let url: string;
    ({ url, server } = await serveDir(out));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForFunction(() => !(document.getElementById("prune") as HTMLButtonElement).disabled, null, { timeout: 20_000 });
  }, 60_000);

  afterEach(() => {
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const message = () => page.locator("#message");

  /** Waits up to 10 s for the element's text to match (files are read asynchronously), then asserts it. */
  async function expectText(selector: string, pattern: RegExp): Promise<void> {
    await page.waitForFunction(([sel, source, flags]) => new RegExp(source, flags).test(document.querySelector(sel)?.textContent ?? ""),
      [selector, pattern.source, pattern.flags] as const, { timeout: 10_000 }).catch(() => undefined);
    expect((await page.textContent(selector)) ?? "").toMatch(pattern);
  }

  it("opens on the bundled model and digits", async () => {
    await expectText("#model-summary", /784 → 300 → 100 → 10/);
    await expectText("#data-summary", /2,000 samples × 784 features/);
    expect(await message().isHidden()).toBe(true);
  });

  it("shows a visible message for bad files, from the picker and from a drop", async () => {
    await page.setInputFiles("#files", { name: "calib.npy", mimeType: "application/octet-stream", buffer: Buffer.from("this is not numpy at all") });
    await expectText("#message", /calib\.npy: magic: expected a NumPy \.npy file/);
    expect(await message().isVisible()).toBe(true);

    await page.setInputFiles("#files", { name: "calib20.npy", mimeType: "application/octet-stream", buffer: npy(new Float32Array(50 * 20).fill(0.5), 50, 20) });
    await expectText("#message", /calib20\.npy has 20 features per sample, but .* takes 784 inputs/);
    expect(await page.isDisabled("#prune")).toBe(true);

    await page.setInputFiles("#files", { name: "model.json", mimeType: "application/json", buffer: Buffer.from("{ not json") });
    await expectText("#message", /model\.json is not valid JSON/);

    // A drop of model.json without its weight file.
    const modelJson = readFileSync(join(repo, "models", "mnist-mlp", "model.json"), "utf8");
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "model.json", { type: "application/json" }));
      return dt;
    }, modelJson);
    await page.dispatchEvent("#drop-zone", "drop", { dataTransfer });
    await expectText("#message", /model\.json needs its weight file "weights\.bin"/);
    await page.locator("#inputs").screenshot({ path: join(artifacts, "web-page-message.png") });

    // A model the library refuses (a Conv2D layer): its ModelFormatError, under its class name.
    const weights = readFileSync(join(repo, "models", "mnist-mlp", "weights.bin"));
    await page.setInputFiles("#files", [
      { name: "model.json", mimeType: "application/json", buffer: Buffer.from(modelJson.replace('"class_name":"Dense"', '"class_name":"Conv2D"')) },
      { name: "weights.bin", mimeType: "application/octet-stream", buffer: weights },
    ]);
    await expectText("#message", /ModelFormatError: .*Conv2D/);

    await page.click("#use-bundled");
    expect(await message().isHidden()).toBe(true);
    expect(await page.isEnabled("#prune")).toBe(true);
  });

  it("prunes the bundled model on 300 digits in a worker, with progress, results, pictures and downloads", async () => {
    await page.fill("#samples", "300");
    await page.fill("#gain", "0.05");
    await page.selectOption("#mode", "parallel");
    // Record every value the progress bars take during the run.
    await page.evaluate(() => {
      const seen: number[] = ((window as unknown as { seen: number[] }).seen = []);
      new MutationObserver((records) => {
        for (const r of records) seen.push(Number((r.target as Element).getAttribute("aria-valuenow")));
      }).observe(document.getElementById("progress")!, { subtree: true, attributeFilter: ["aria-valuenow"] });
    });
    const started = Date.now();
    await page.click("#prune");
    await page.waitForSelector("#layer-table", { timeout: 40_000 });
    const seconds = (Date.now() - started) / 1000;

    const rows = page.locator("#layer-table tbody tr");
    expect(await rows.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(["solved", "solved_inaccurate"]).toContain((await rows.nth(i).locator(".status").textContent())?.trim());
      const kept = Number(await rows.nth(i).locator(".kept").getAttribute("data-value"));
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(100);
    }
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    expect(await page.locator(".bar").evaluateAll((bars) => bars.map((b) => b.getAttribute("aria-valuenow")))).toEqual(["100", "100", "100"]);

    await expectText("#guarantee", /Theorem 1 \(parallel\).*bound/);
    const before = Number(await page.getAttribute("#accuracy-before", "data-value"));
    const after = Number(await page.getAttribute("#accuracy-after", "data-value"));
    expect(before).toBeGreaterThan(95);
    expect(after).toBeGreaterThanOrEqual(80);
    expect(Math.abs(after - before)).toBeLessThan(10);

    expect(await page.locator(".fields canvas").count()).toBe(16);
    expect(await page.locator("canvas.mask").count()).toBe(2);
    expect(await page.locator("button.download").count()).toBe(3);
    const download = page.waitForEvent("download");
    await page.click('button.download[data-file="masks.json"]');
    const masks = JSON.parse(readFileSync(await (await download).path(), "utf8"));
    expect(masks.format).toBe("net-trim-masks");
    expect(masks.layers).toHaveLength(3);

    await page.screenshot({ path: join(artifacts, "web-page.png"), fullPage: true });
    console.log(`web page: pruned 300 digits in ${seconds.toFixed(1)} s; test accuracy ${before.toFixed(2)}% → ${after.toFixed(2)}%`);
  }, 60_000);

  it("prunes a user's model.json + weights.bin on a user's float64 .npy", async () => {
    // 100 training digits the bundled page does not ship (rows 5000..5099), as float64.
    const digits = Float64Array.from(loadMnist().trainX.subarray(5000 * PIXELS, 5100 * PIXELS));
    const dir = join(repo, "models", "mnist-mlp");
    await page.setInputFiles("#files", [
      { name: "model.json", mimeType: "application/json", buffer: readFileSync(join(dir, "model.json")) },
      { name: "weights.bin", mimeType: "application/octet-stream", buffer: readFileSync(join(dir, "weights.bin")) },
      { name: "digits.npy", mimeType: "application/octet-stream", buffer: npy(digits, 100, PIXELS) },
    ]);
    await expectText("#model-summary", /^model\.json \(weights\.bin\).*784 → 300 → 100 → 10/);
    await expectText("#data-summary", /digits\.npy: 100 samples × 784 features/);
    expect(await message().isHidden()).toBe(true);
    await page.selectOption("#mode", "cascade");
    await page.click("#prune");
    await page.waitForSelector("#layer-table", { timeout: 30_000 });
    expect(await page.locator("#layer-table tbody tr").count()).toBe(3);
    await expectText("#guarantee", /Theorem 2 \(cascade\)/);
    expect(await page.locator("#accuracy-after").count()).toBe(1); // a user model of MNIST's shapes is tested too
    await page.click("#use-bundled");
    await page.selectOption("#mode", "parallel");
  }, 40_000);

  it("cancels a bigger run: the layer shows status aborted", async () => {
    await page.fill("#samples", "2000");
    await page.fill("#gain", "0.02");
    await page.click("#prune");
    await page.waitForFunction(() => Number(document.querySelector(".bar")?.getAttribute("aria-valuenow")) > 0, null, { timeout: 20_000 });
    expect(await page.isEnabled("#cancel")).toBe(true);
    await page.click("#cancel");
    await page.waitForSelector("#layer-table", { timeout: 20_000 });
    expect(await page.locator("#layer-table .status").allTextContents()).toContain("aborted");
    await expectText("#results", /Cancelled/);
    expect(await page.isDisabled("#cancel")).toBe(true);
    expect(await page.isEnabled("#prune")).toBe(true);
  }, 40_000);
});
