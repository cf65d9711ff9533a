// readme:start
import { init, pruneLayer, pruneNetwork, matrix } from "net-trim";
import wasm from "net-trim/wasm/net-trim-simd.wasm?module"; // Vercel Edge: a WebAssembly.Module
export const config = { runtime: "edge" };
const ready = init({ module: wasm }); // the edge refuses to compile bytes: hand the module over
// readme:end
import { runScenario } from "./scenario.mjs";

export default async function handler(request) {
  await ready;
  return Response.json(await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 }));
}
