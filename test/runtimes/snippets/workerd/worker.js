// readme:start
import { init, pruneLayer, pruneNetwork, matrix } from "net-trim";
import wasm from "net-trim/wasm/net-trim-simd.wasm"; // wrangler's CompiledWasm rule: a WebAssembly.Module
const ready = init({ module: wasm });
// No Workers in workerd: pruneNetwork runs its layers in this thread (result.execution says so).
// readme:end
import { runScenario } from "./scenario.mjs";

export default {
  async fetch(request) {
    await ready;
    const part = new URL(request.url).searchParams.get("part");
    const out = await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2, parts: part ? [part] : undefined });
    return Response.json(out);
  },
};
