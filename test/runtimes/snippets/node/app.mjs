// readme:start
// node app.mjs · bun app.mjs · deno run --allow-read=node_modules/net-trim/dist/build app.mjs
import { pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
// The SIMD builds (the solver's and the sparse runtime's) are read from the package;
// pruneNetwork's parallel mode runs on worker threads.
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";
console.log(JSON.stringify(await runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models })));
