// The sparse runtime's module (build/net-trim-runtime.wasm): inference kernels only, SIMD.
export { heapBase } from "../memory-layout";
export { denseLayer, denseConv } from "./dense";
export { sparseLayer, sparseConv } from "./sparse";
export { sparseConvPlanar } from "./sparse-conv-planar";
export { activate, pool2d } from "./elementwise";
