// readme:start
// Vite (build and dev server) and webpack 5: no configuration. They emit the .wasm files and
// net-trim's worker script from the package's new URL("…", import.meta.url) references.
import { pruneLayer, pruneNetwork, matrix, loadModel } from "net-trim";
// readme:end
import { runScenario } from "./scenario.mjs";
import models from "./runtime-models.mjs";
window.__result = runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers: 2, models }).catch((e) => ({ error: `${e.name}: ${e.message}` }));
