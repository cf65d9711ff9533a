import { measureOutput, measuredFitSquared, measuredLeakage, measuredOutputSquared } from "../../assembly/measure";
import { allocBytes, allocF32, release, setF32 } from "./helpers";

// Four entries, values chosen so each sum is done by hand below.
//   z:    2.0   -1.0   0.5   3.0
//   y:    1.5    0.0   0.0   2.0
//   v:    0.0    0.0   0.25  0.0
//   mask: 1      0     0     1      (Ω = where y > 0)
function setUp(z3: f32): usize[] {
  const z = allocF32(4), y = allocF32(4), v = allocF32(4), mask = allocBytes(4);
  setF32(z, 0, 2.0); setF32(z, 1, -1.0); setF32(z, 2, 0.5); setF32(z, 3, z3);
  setF32(y, 0, 1.5); setF32(y, 3, 2.0);
  setF32(v, 2, 0.25);
  store<u8>(mask, 1); store<u8>(mask + 3, 1);
  return [z, y, v, mask];
}

function tearDown(b: usize[]): void {
  for (let i = 0; i < b.length; i++) release(b[i]);
}

describe("measureOutput", () => {
  test("relu: fit on Ω, output error after the activation, leakage over V on Ω^c", () => {
    const b = setUp(3.0);
    measureOutput(4, 0, 1, b[0], b[1], b[2], b[3]);
    // fit: (2 − 1.5)² + (3 − 2)² = 1.25; output: 0.25 + 0 + 0.5² + 1 = 1.5; leakage: 0.5 − 0.25.
    expect(measuredFitSquared()).toBe(1.25);
    expect(measuredOutputSquared()).toBe(1.5);
    expect(measuredLeakage()).toBe(0.25);
    // Without V the leakage is measured against 0: max(−1, 0.5) = 0.5.
    measureOutput(4, 0, 0, b[0], b[1], b[2], b[3]);
    expect(measuredLeakage()).toBe(0.5);
    tearDown(b);
  });

  test("linear: every entry counts in the fit and the output error, no leakage", () => {
    const b = setUp(3.0);
    measureOutput(4, 1, 0, b[0], b[1], b[2], b[3]);
    // 0.25 + 1 + 0.25 + 1 = 2.5
    expect(measuredFitSquared()).toBe(2.5);
    expect(measuredOutputSquared()).toBe(2.5);
    expect(measuredLeakage()).toBe(0.0);
    tearDown(b);
  });

  test("a NaN pre-activation makes the measures NaN, not 0", () => {
    const b = setUp(NaN);
    measureOutput(4, 0, 1, b[0], b[1], b[2], b[3]);
    expect(isNaN(measuredFitSquared())).toBe(true);
    expect(isNaN(measuredOutputSquared())).toBe(true);
    tearDown(b);
    // NaN on Ω^c: the leakage is NaN however the later entries compare.
    const c = setUp(3.0);
    setF32(c[0], 1, NaN);
    measureOutput(4, 0, 1, c[0], c[1], c[2], c[3]);
    expect(isNaN(measuredLeakage())).toBe(true);
    expect(isNaN(measuredOutputSquared())).toBe(true);
    expect(measuredFitSquared()).toBe(1.25);
    tearDown(c);
  });
});
