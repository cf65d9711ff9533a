// Measures the wasm GEMM and SpMM kernels on the Net-Trim ADMM product shapes.
// Usage: node bench/gemm-peak.mjs   (after building both targets with asc)
import { readFileSync } from "node:fs";

const SHAPES = [
  { label: "C[P×M] = A[P×N̄]·B[N̄×M]", m: 2000, k: 785, n: 300 },
  { label: "C[N̄×M] = A[N̄×P]·B[P×M]", m: 785, k: 2000, n: 300 },
];
const DENSITY = 0.2;
const TRIALS = 7;
const TRIAL_SECONDS = 0.15;

async function load(file) {
  const bytes = readFileSync(new URL(`../build/${file}`, import.meta.url));
  if (!WebAssembly.validate(bytes)) throw new Error(`${file} does not validate`);
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: { abort() { throw new Error("abort"); } },
  });
  return instance.exports;
}

// Bump allocator over wasm memory starting at heapBase(), 64-byte aligned.
function arena(wasm) {
  let top = Number(wasm.heapBase());
  return (bytes) => {
    const at = top;
    top = (top + bytes + 63) & ~63;
    const need = top - wasm.memory.buffer.byteLength;
    if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
    return at;
  };
}

// Best of several short trials, timed both by the wall clock and by this
// process's CPU time. The machine may be shared (other jobs on the same
// cores); CPU time leaves out the time the process was descheduled, so it is
// the better estimate of the kernel's own speed there. With an idle machine
// the two agree (CPU time also counts V8's background threads, so it errs low).
function timeIt(fn) {
  fn(); fn(); // warm-up (tier-up to TurboFan)
  let wall = Infinity, cpu = Infinity;
  for (let trial = 0; trial < TRIALS; trial++) {
    let reps = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let t = t0;
    do { fn(); reps++; t = performance.now(); } while (t - t0 < TRIAL_SECONDS * 1000);
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, (t - t0) / 1000 / reps);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6 / reps);
  }
  return { wall, cpu };
}

const gflops = (flops, t) => `${(flops / t.cpu / 1e9).toFixed(1)} GFLOP/s by CPU time, ${(flops / t.wall / 1e9).toFixed(1)} by wall clock`;
const ms = (t) => `${(t.cpu * 1e3).toFixed(2)} ms CPU / ${(t.wall * 1e3).toFixed(2)} ms wall`;

function fillRandom(f32, at, count, density, rng) {
  const v = new Float32Array(f32.buffer, at, count);
  for (let i = 0; i < count; i++) v[i] = rng() < density ? rng() * 2 - 1 : 0;
}

function makeRng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
}

async function run(file) {
  const wasm = await load(file);
  const alloc = arena(wasm);
  const rng = makeRng(12345);
  console.log(`\n${file}`);
  for (const { label, m, k, n } of SHAPES) {
    const scratch = alloc(wasm.gemmScratchBytes());
    const a = alloc(m * k * 4), b = alloc(k * n * 4), c = alloc(m * n * 4);
    const aSparse = alloc(m * k * 4);
    const rowPtr = alloc((m + 1) * 4);
    let mem = new Float32Array(wasm.memory.buffer);
    fillRandom(mem, a, m * k, 1, rng);
    fillRandom(mem, b, k * n, 1, rng);
    const flops = 2 * m * n * k;
    const dense = timeIt(() => wasm.gemm(m, n, k, a, k, b, n, c, n, 0, scratch));
    let line = `  ${label}  ${m}×${k}·${k}×${n}\n      gemm: ${gflops(flops, dense)} (${ms(dense)})`;
    if (wasm.spmm) {
      mem = new Float32Array(wasm.memory.buffer);
      fillRandom(mem, aSparse, m * k, DENSITY, rng);
      const nnz = wasm.csrCount(m, k, aSparse, k);
      const colIdx = alloc(nnz * 4), vals = alloc(nnz * 4);
      wasm.csrFromDense(m, k, aSparse, k, rowPtr, colIdx, vals);
      const sparse = timeIt(() => wasm.spmm(m, n, rowPtr, colIdx, vals, b, n, c, n));
      let packedLine = "";
      if (wasm.spmmPacked) {
        const spScratch = alloc(wasm.spmmScratchBytes(k));
        const packed = timeIt(() => wasm.spmmPacked(m, n, k, rowPtr, colIdx, vals, b, n, c, n, spScratch));
        packedLine = `\n      spmmPacked: ${gflops(2 * nnz * n, packed)} (useful flops; ${ms(packed)})`;
      }
      const gemmSparse = timeIt(() => wasm.gemm(m, n, k, aSparse, k, b, n, c, n, 0, scratch));
      line += `\n      spmm at ${(nnz / (m * k) * 100).toFixed(1)}% density: ${gflops(2 * nnz * n, sparse)} (useful flops; ${ms(sparse)})` +
        `\n        = ${gflops(flops, sparse)} dense-equivalent; dense gemm on the same matrix ${ms(gemmSparse)}` + packedLine;
    }
    console.log(line);
  }
}

for (const file of ["net-trim-simd.wasm", "net-trim-scalar.wasm"]) await run(file);
