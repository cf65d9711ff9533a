// readme:start
// esbuild main.js entry=net-trim/worker --bundle --format=esm --loader:.wasm=file --outdir=dist
import { init, pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
import wasmUrl from "net-trim/wasm/net-trim-simd.wasm"; // the file loader emits it and gives its URL
import runtimeWasmUrl from "net-trim/wasm/net-trim-runtime.wasm";
await init({ url: wasmUrl });
const runtime = { url: runtimeWasmUrl }; // loadModel(source, runtime), createRuntime(graph, runtime)
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";
window.__result = runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models, runtime }).catch((e) => ({ error: `${e.name}: ${e.message}` }));
