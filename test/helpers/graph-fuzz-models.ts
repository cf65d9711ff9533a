// The TF.js models the graph-reader fuzzing mutates: a functional model using most of the op set
// (conv, batch norm, depthwise, add, pools, padding, concat, upsampling, dense) and a Sequential
// one (reshape, relu6 conv, global pooling, dropout, dense), saved to memory by TF.js itself.
import * as tf from "@tensorflow/tfjs";
import { init, saveToMemory, type SavedModel } from "./tfjs-models.ts";

export async function graphFuzzModels(): Promise<SavedModel[]> {
  await tf.setBackend("cpu");
  const sym = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
  const a = tf.input({ shape: [6, 6, 2] });
  const c = sym(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", ...init(1) }), a);
  const b = sym(tf.layers.batchNormalization({}), c);
  const r = sym(tf.layers.reLU({}), sym(tf.layers.add(), [b, sym(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same" }), c)]));
  const p = sym(tf.layers.maxPooling2d({ poolSize: 2 }), sym(tf.layers.zeroPadding2d({ padding: 1 }), r));
  const cat = sym(tf.layers.concatenate(), [p, sym(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same" }), p)]);
  const out = sym(tf.layers.dense({ units: 3, activation: "softmax", ...init(2) }), sym(tf.layers.flatten(), sym(tf.layers.upSampling2d({ size: [2, 2] }), cat)));
  return [
    await saveToMemory(tf.model({ inputs: a, outputs: out })),
    await saveToMemory(tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [16], targetShape: [4, 4, 1] }), tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: "relu6", ...init(3) }),
        tf.layers.globalAveragePooling2d({}), tf.layers.dropout({ rate: 0.1 }), tf.layers.dense({ units: 2, activation: "tanh", ...init(4) }),
      ],
    })),
  ];
}
