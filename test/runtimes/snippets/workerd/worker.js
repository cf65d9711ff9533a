// readme:start
import { init, pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
import wasm from "net-trim/wasm/net-trim-simd.wasm"; // wrangler's CompiledWasm rule: a WebAssembly.Module
import runtimeWasm from "net-trim/wasm/net-trim-runtime.wasm";
const ready = init({ module: wasm });
const runtime = { module: runtimeWasm }; // loadModel(source, runtime), createRuntime(graph, runtime)
// No Workers in workerd: pruneNetwork runs its layers in this thread (result.execution says so).
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";

export default {
  async fetch(request) {
    await ready;
    const part = new URL(request.url).searchParams.get("part");
    const out = await runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models, runtime, parts: part ? [part] : undefined });
    return Response.json(out);
  },
};
