// Lets the host ask which build it loaded.

/** 1 in the SIMD build, 0 in the scalar build. */
export function simdBuild(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
