// readme:start
// node app.mjs · bun app.mjs · deno run --allow-read=node_modules/net-trim/dist/build app.mjs
import { pruneLayer, pruneNetwork, matrix } from "net-trim";
// The SIMD build is read from the package; pruneNetwork's parallel mode runs on worker threads.
// readme:end
import { runScenario } from "./scenario.mjs";
console.log(JSON.stringify(await runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 })));
