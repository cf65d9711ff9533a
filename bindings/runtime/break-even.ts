// Which kernel a layer runs: sparse (CSR scatter, zero inputs skipped) below a density threshold,
// dense SIMD above it. The thresholds are constants measured once on this build by
// `npm run bench:runtime` ("break-even" table: a random Dense 512→512 and a 3×3 Conv2D 16→32 on
// 16×16, inputs half zeros as after a ReLU, batch 1, 16 and 256: the density at which both
// kernels take the same time, the smallest over the batches, in the run of 2026-12-02 with
// these kernels: Dense 0.23–0.40, Conv2D 0.31–0.32),
// not timed at run time: the choice, and so the output bits, never depends on the machine's load.

/** Kernel density (nonzeros / weights) below which a Dense layer runs sparse. */
const DENSE_BREAK_EVEN = 0.23;
/** Kernel density below which a Conv2D layer runs sparse. */
const CONV_BREAK_EVEN = 0.3;

export type KernelChoice = "auto" | "sparse" | "dense";

/**
 * The kernel a Dense/Conv2D layer runs (DepthwiseConv2D always runs sparse). `density` is the
 * nonzeros over the dense kernel's work: kernel rows × outputs rounded up to 4.
 */
export function chooseKernel(op: "dense" | "conv2d" | "depthwiseConv2d", density: number, wanted: KernelChoice): "sparse" | "dense" {
  if (op === "depthwiseConv2d") return "sparse";
  if (wanted !== "auto") return wanted;
  return density < (op === "dense" ? DENSE_BREAK_EVEN : CONV_BREAK_EVEN) ? "sparse" : "dense";
}
