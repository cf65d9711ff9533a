// as-pect suite for the wasm kernels (test/assembly/*.spec.ts).
// Compiler options live in as-pect.asconfig.json (SIMD enabled), which asp
// reads by default. The scalar build is tested with the same specs via
//   npx asp --config as-pect.scalar.config.js --as-config as-pect.scalar.asconfig.json
export default {
  entries: ["test/assembly/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
