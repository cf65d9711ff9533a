// Same specs as as-pect.config.js, for the build without SIMD. Run with
//   npx asp --config as-pect.scalar.config.js --as-config as-pect.scalar.asconfig.json
// (asp takes the compiler options only from --as-config, so both flags are needed).
import base from "./as-pect.config.js";
export default { ...base };
