// readme:start
// deno run main.js   (no permission flag: the modules are imported, not read from disk)
import { init, pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
import source wasm from "net-trim/wasm/net-trim-simd.wasm";
import source runtimeWasm from "net-trim/wasm/net-trim-runtime.wasm";
await init({ module: wasm }); // pruneNetwork's workers receive this module too
const runtime = { module: runtimeWasm }; // loadModel(source, runtime), createRuntime(graph, runtime)
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";
console.log(JSON.stringify(await runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models, runtime })));
