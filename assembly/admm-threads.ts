// One layer's ADMM iterations on several threads (the simd-threads build: shared memory, one
// instance per thread). Each thread runs the phases of admm.ts on its share of the slabs and
// waits for the others between phases; the main thread is thread 0.
//
// The main thread posts a command (threadPost) and runs its share (admmRunThread); each worker
// sits in admmServeThread, which waits for commands until told to exit.
//
// The control block (CONTROL_BYTES, 64-byte aligned, in shared memory):
//   GO         the command generation: workers wait for it to change
//   COMMAND    0 = iterate, 1 = exit
//   COUNT      iterations to run; STATS: nonzero to gather statistics on the last one
//   THREADS    the number of threads taking part
//   ARRIVED, GENERATION  the barrier (own cache lines)
//   STATE      what admmPublishState wrote
// Determinism: slabs are fixed (16 rows) whatever the thread count, each is written by one
// thread, and every f64 sum is added over slabs in slab order: 1 or n threads, the same bits.
import {
  adoptState, finishIteration, outputSlabCount, phaseBall, phaseOutputs, phaseRightSide, phaseShrink,
  phaseWeights, phaseWoodburyK, rightSideShareStart, usesWoodbury, weightSlabCount,
} from "./admm";

const GO: usize = 0;
const COMMAND: usize = 4;
const COUNT: usize = 8;
const STATS: usize = 12;
const THREADS: usize = 16;
const ARRIVED: usize = 64;
const GENERATION: usize = 128;
const STATE: usize = 192;
const CONTROL_BYTES: i32 = 256;
// Spins before a waiting thread sleeps: long enough to cover a phase's usual imbalance, short
// enough not to steal a core from a thread that was descheduled.
const SPIN_LIMIT: i32 = 1 << 10;

/** Bytes of the control block. */
export function threadControlBytes(): i32 {
  return CONTROL_BYTES;
}

/** Where admmPublishState writes inside the control block. */
export function threadStatePointer(control: usize): usize {
  return control + STATE;
}

const ITERATE: i32 = 0;
const EXIT: i32 = 1;

/**
 * Posts a command to the workers: `exit` nonzero ends them, else each runs `count` iterations
 * (statistics on the last when `stats` is nonzero) on `threads` threads, the caller being thread 0.
 */
export function threadPost(control: usize, exit: i32, count: i32, stats: i32, threads: i32): void {
  atomic.store<i32>(control + COMMAND, exit != 0 ? EXIT : ITERATE);
  atomic.store<i32>(control + COUNT, count);
  atomic.store<i32>(control + STATS, stats);
  atomic.store<i32>(control + THREADS, threads);
  atomic.add<i32>(control + GO, 1);
  atomic.notify(control + GO);
}

/** A worker's life: waits for each command and runs its share, until the exit command. */
export function admmServeThread(control: usize, thread: i32, gemmScratch: usize, spmmScratch: usize): void {
  let seen: i32 = 0;
  while (true) {
    while (atomic.load<i32>(control + GO) == seen) atomic.wait<i32>(control + GO, seen, -1);
    seen = atomic.load<i32>(control + GO);
    if (atomic.load<i32>(control + COMMAND) == EXIT) return;
    admmRunThread(control, thread, gemmScratch, spmmScratch, 1);
  }
}

/** Waits until all `threads` threads arrive. `mayWait` = 0 only spins (a browser's main thread may not block). */
function barrier(control: usize, threads: i32, mayWait: bool): void {
  const generation = atomic.load<i32>(control + GENERATION);
  if (atomic.add<i32>(control + ARRIVED, 1) == threads - 1) {
    atomic.store<i32>(control + ARRIVED, 0);
    atomic.add<i32>(control + GENERATION, 1);
    atomic.notify(control + GENERATION);
    return;
  }
  let spins = 0;
  while (atomic.load<i32>(control + GENERATION) == generation) {
    if (mayWait && ++spins > SPIN_LIMIT) atomic.wait<i32>(control + GENERATION, generation, -1);
  }
}

/** First slab of thread t's share of `slabs`. */
@inline function shareStart(slabs: i32, t: i32, threads: i32): i32 {
  return <i32>((<i64>slabs * t) / threads);
}

/**
 * Runs the command in the control block as thread `thread`: COUNT iterations on this thread's
 * share, with its own packing scratch. Every instance adopts the published state first; all
 * return once the last iteration is complete on every thread.
 */
export function admmRunThread(control: usize, thread: i32, gemmScratch: usize, spmmScratch: usize, mayWait: i32): void {
  adoptState(control + STATE);
  const count = atomic.load<i32>(control + COUNT);
  const stats = atomic.load<i32>(control + STATS) != 0;
  const threads = atomic.load<i32>(control + THREADS);
  const wait = mayWait != 0;
  const outSlabs = outputSlabCount(), wSlabs = weightSlabCount();
  const o0 = shareStart(outSlabs, thread, threads), o1 = shareStart(outSlabs, thread + 1, threads);
  const w0 = shareStart(wSlabs, thread, threads), w1 = shareStart(wSlabs, thread + 1, threads);
  for (let it = 0; it < count; it++) {
    const last = it == count - 1;
    const withStats = stats && last;
    phaseBall(o0, o1);
    barrier(control, threads, wait);
    phaseShrink(o0, o1, w0, w1, withStats);
    barrier(control, threads, wait);
    phaseRightSide(thread, threads, gemmScratch, spmmScratch);
    barrier(control, threads, wait);
    if (usesWoodbury()) {
      // S = K·T needs every thread's T; W3⁺ = X·S + E every thread's S (X's rows split as X·B's are).
      phaseWoodburyK(o0, o1, gemmScratch);
      barrier(control, threads, wait);
      phaseWeights(rightSideShareStart(thread, threads), rightSideShareStart(thread + 1, threads), withStats, gemmScratch, spmmScratch);
    } else {
      phaseWeights(w0, w1, withStats, gemmScratch, spmmScratch);
    }
    barrier(control, threads, wait);
    phaseOutputs(o0, o1, withStats, spmmScratch, gemmScratch);
    // The next iteration's first phase reads only this thread's own rows; the last one's
    // statistics and the caller need every thread's.
    if (last) barrier(control, threads, wait);
    finishIteration(withStats);
  }
}
