import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { searchForWorkspaceRoot } from "vite";

const ROOT = fileURLToPath(new URL(".", import.meta.url));

// Files that keep both cores busy in the test process itself (worker pools, wasm threads): run
// one at a time, after the rest, so they do not fight each other.
const ALONE = [
  "test/threads.test.ts", "test/prune-graph-pool.test.ts", "test/prune-graph-threads.test.ts",
  "test/conv-threads.test.ts", "test/worker-pool.test.ts", "test/long-use.test.ts",
  "test/runtimes/init-reaches-pool.test.ts", "test/graph-reweight.test.ts",
];

// Three projects, run one after the other (sequence.groupOrder): the Node suite two files at a
// time (vitest's default on 2 cores is one: the CLI, redis and runtime tests mostly wait on child
// processes, which then share the cores), the pool and thread files alone, and a real headless
// Chromium (Debian's /usr/bin/chromium, no playwright download) that loads the SIMD build and
// solves a layer.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", ...ALONE],
          testTimeout: 60_000,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "node-alone",
          include: ALONE,
          testTimeout: 60_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "browser",
          sequence: { groupOrder: 2 },
          include: ["test/browser/**/*.test.ts"],
          // Cross-origin isolated pages (SharedArrayBuffer): what pruneLayer's threads need.
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
                args: [
                  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                ],
              },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
        // Bundled before the first page load, so Vite does not reload the page mid-test.
        optimizeDeps: { include: ["onnxruntime-web/wasm"] },
        server: {
          headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
          // onnxruntime-web fetches its .wasm at run time; node_modules may be a symlink out of the
          // project (a git worktree), which Vite would refuse to serve.
          fs: { allow: [searchForWorkspaceRoot(ROOT), realpathSync(`${ROOT}node_modules/onnxruntime-web/dist`)] },
        },
      },
    ],
  },
});
