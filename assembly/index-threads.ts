// The threaded build's export list (target simd-threads): every kernel of index.ts, and the
// threaded iteration with what its host needs to drive it.
export * from "./index";
export { admmPublishState, admmStateBytes } from "./admm";
export { admmRunThread, admmServeThread, threadControlBytes, threadPost, threadStatePointer } from "./admm-threads";
