// The sparse runtime's module: inference kernels only. Two builds of this source:
// build/net-trim-runtime.wasm (SIMD) and build/net-trim-runtime-scalar.wasm (no SIMD, same bits).
export { heapBase } from "../memory-layout";
export { denseLayer, denseConv } from "./dense";
export { sparseLayer, sparseConv } from "./sparse";
export { sparseConvPlanar } from "./sparse-conv-planar";
export { activate, pool2d } from "./elementwise";
export { simdBuild } from "../build-info";
