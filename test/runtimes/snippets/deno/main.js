// readme:start
// deno run main.js   (no permission flag: the module is imported, not read from disk)
import { init, pruneLayer, pruneNetwork, matrix } from "net-trim";
import source wasm from "net-trim/wasm/net-trim-simd.wasm";
await init({ module: wasm }); // pruneNetwork's workers receive this module too
// readme:end
import { runScenario } from "./scenario.mjs";
console.log(JSON.stringify(await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 })));
