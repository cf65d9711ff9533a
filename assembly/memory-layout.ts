// Where JS may start laying out its own buffers. The module uses the stub
// runtime and never allocates, so everything above __heap_base belongs to JS.

/** Byte offset of the first 64-byte aligned address past the module's static data. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}
