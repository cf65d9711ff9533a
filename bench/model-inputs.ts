// Images made the size a model takes, the way nsfwjs feeds its models (dist/esm/core.js: pixels
// / 255, then tf.image.resizeBilinear with align corners). Grey images are copied to the 3 channels.
import * as tf from "@tensorflow/tfjs";

/** `count` images [h, w, channels] (channels 1 or 3, values already in [0, 1]) resized to size² × 3. */
export function resizeForModel(pixels: Float32Array, count: number, [h, w, channels]: [number, number, number], size: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(pixels.subarray(0, count * h * w * channels), [count, h, w, channels]);
    const resized = tf.image.resizeBilinear(x, [size, size], true);
    return (channels === 1 ? resized.tile([1, 1, 1, 3]) : resized).dataSync() as Float32Array;
  });
}
