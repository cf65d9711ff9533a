// Vite config of the net-trim web page. Root is this folder; the library comes from the
// repository's TypeScript sources (./lib.ts; no build of the package needed) and the MNIST data
// is made at build time by ./data-plugin.ts, so no large binary is committed.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { mnistDataPlugin } from "./data-plugin.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  root: here,
  // Relative asset URLs: the output works from any folder of any static server.
  base: "./",
  plugins: [mnistDataPlugin()],
  worker: { format: "es" },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The 14 kB wasm must stay a file (compileStreaming needs a URL), never a data: URL.
    assetsInlineLimit: 0,
  },
  server: {
    // The library sources and build/*.wasm live outside this root.
    fs: { allow: [repo] },
  },
  // Nothing of the page comes from node_modules: no dependency pre-bundling in dev.
  optimizeDeps: { noDiscovery: true, include: [] },
});
