// readme:start
// esbuild main.js entry=net-trim/worker --bundle --format=esm --loader:.wasm=file --outdir=dist
import { init, pruneLayer, pruneNetwork, matrix } from "net-trim";
import wasmUrl from "net-trim/wasm/net-trim-simd.wasm"; // the file loader emits it and gives its URL
await init({ url: wasmUrl });
// readme:end
import { runScenario } from "./scenario.mjs";
window.__result = runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 }).catch((e) => ({ error: `${e.name}: ${e.message}` }));
