// readme:start
// Vite (build and dev server) and webpack 5: no configuration. They emit the .wasm files and
// net-trim's worker script from the package's new URL("…", import.meta.url) references.
import { pruneLayer, pruneNetwork, matrix } from "net-trim";
// readme:end
import { runScenario } from "./scenario.mjs";
window.__result = runScenario({ pruneLayer, pruneNetwork, matrix }, { workers: 2 }).catch((e) => ({ error: `${e.name}: ${e.message}` }));
