// Types of net-trim/wasm/net-trim-simd.wasm and net-trim/wasm/net-trim-scalar.wasm: the
// compiled module, as runtimes and bundlers that compile .wasm imports hand it over (wrangler's
// CompiledWasm rule, Vercel Edge's `?module`, Deno's `import source`). Pass it to init({module}).
declare const module: WebAssembly.Module;
export default module;
