// Shared test helpers: raw buffers (kernels take byte pointers), a seeded
// generator, and element access. Kept out of the kernels on purpose.

let seed: u32 = 0x2545f491;

export function reseed(s: u32): void {
  seed = s;
}

/** Uniform in [-1, 1). */
export function rand(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>(seed >>> 8) / 8388608.0 - 1.0);
}

/** Uniform in [0, 1). */
export function rand01(): f64 {
  seed = seed * 1664525 + 1013904223;
  return <f64>(seed >>> 8) / 16777216.0;
}

/** Zeroed raw buffer; at least 16 bytes so empty shapes still get a valid pointer. */
export function allocBytes(bytes: i32): usize {
  const size = <usize>max(bytes, 16);
  const p = heap.alloc(size);
  memory.fill(p, 0, size);
  return p;
}

export function allocF32(count: i32): usize {
  return allocBytes(count * 4);
}

export function allocF64(count: i32): usize {
  return allocBytes(count * 8);
}

export function release(p: usize): void {
  heap.free(p);
}

/** Fills count f32 with values in [-1, 1), each zero with probability 1 − density. */
export function fillRandom(p: usize, count: i32, density: f64 = 1.0): void {
  for (let i = 0; i < count; i++) {
    const v = rand();
    store<f32>(p + <usize>i * 4, rand01() < density ? v : 0);
  }
}

@inline export function getF32(p: usize, i: i32): f32 {
  return load<f32>(p + <usize>i * 4);
}

@inline export function setF32(p: usize, i: i32, v: f32): void {
  store<f32>(p + <usize>i * 4, v);
}

@inline export function getF64(p: usize, i: i32): f64 {
  return load<f64>(p + <usize>i * 8);
}

@inline export function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + <usize>i * 8, v);
}

@inline export function getI32(p: usize, i: i32): i32 {
  return load<i32>(p + <usize>i * 4);
}

export const SIZES: i32[] = [0, 1, 2, 3, 5, 17];
