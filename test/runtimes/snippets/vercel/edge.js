// readme:start
import { init, pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
import wasm from "net-trim/wasm/net-trim-simd.wasm?module"; // Vercel Edge: a WebAssembly.Module
import runtimeWasm from "net-trim/wasm/net-trim-runtime.wasm?module";
export const config = { runtime: "edge" };
const ready = init({ module: wasm }); // the edge refuses to compile bytes: hand the module over
const runtime = { module: runtimeWasm }; // loadModel(source, runtime), createRuntime(graph, runtime)
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";

export default async function handler(request) {
  await ready;
  return Response.json(await runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models, runtime }));
}
