// Classification accuracy from logits: shared by the demo, the benchmarks and the web page.

/** Fraction of samples whose largest logit is at their label. `logits` is [samples, classes] row-major. */
export function accuracy(logits: Float32Array, labels: Uint8Array): number {
  const k = logits.length / labels.length;
  let right = 0;
  for (let p = 0; p < labels.length; p++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[p * k + j] > logits[p * k + best]) best = j;
    if (best === labels[p]) right++;
  }
  return right / labels.length;
}
