// Which kernel a layer runs: sparse (CSR, or filter-tap lists for Conv2D) below a density threshold,
// dense SIMD above it. The thresholds are constants measured once on this build by
// `npm run bench:runtime` ("break-even" table: a random Dense 512→512 and a 3×3 Conv2D 16→32 on
// 16×16, inputs half zeros as after a ReLU, batch 1, 16 and 256: the density at which both
// kernels take the same time; four runs of 2026-12-02 with these kernels: Dense 0.23–0.52,
// Conv2D 0.295–0.43; the constants are about the smallest),
// not timed at run time: the choice, and so the output bits, never depends on the machine's load.

/** Density (nonzeros over rows × outputs rounded up to 4) below which a Dense layer runs sparse. */
const DENSE_BREAK_EVEN = 0.23;
/** The same for a Conv2D layer. */
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
