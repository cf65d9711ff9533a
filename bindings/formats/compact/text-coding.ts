// The topology's UTF-8 bytes in the range-coded payload, each byte in the context of the one
// before it. A topology is short (hundreds of bytes): too short for the model to learn JSON from
// scratch, so encoder and decoder first train it, emitting nothing, on PRIMER (a topology with
// every op) PRIMER_ROUNDS times. Part of the format: a decoder must prime the same way.
import { probabilities, RangeEncoder, type RangeDecoder } from "./range-coder.ts";

const PRIMER = '{"inputs":["input_1"],"outputs":["activation"],"nodes":[["input_1","input",[],[28,28,1],["InputLayer",{}]],["conv2d","conv2d",["input_1"],32,[3,3],[1,1],"same",[1,1],"relu",0,1,["Conv2D",{"kernel":"conv2d/kernel","bias":"conv2d/bias"}]],["depthwise_conv2d","depthwiseConv2d",["conv2d"],1,[3,3],[2,2],"valid",[1,1],"relu6",2,null,["DepthwiseConv2D",{"kernel":"depthwise_conv2d/depthwise_kernel"}]],["batch_normalization","batchNorm",["depthwise_conv2d"],-1,0.001,3,4,5,6,["BatchNormalization",{"gamma":"batch_normalization/gamma","beta":"batch_normalization/beta","mean":"batch_normalization/moving_mean","variance":"batch_normalization/moving_variance"}]],["max_pooling2d","maxPool2d",["batch_normalization"],[2,2],[2,2],"valid",["MaxPooling2D",{}]],["average_pooling2d","avgPool2d",["max_pooling2d"],[2,2],[2,2],"same",["AveragePooling2D",{}]],["zero_padding2d","zeroPad2d",["average_pooling2d"],[0,1,0,1],["ZeroPadding2D",{}]],["up_sampling2d","upSample2d",["zero_padding2d"],[2,2],["UpSampling2D",{}]],["add","add",["conv2d","up_sampling2d"],["Add",{}]],["concatenate","concat",["add","conv2d"],-1,["Concatenate",{}]],["global_average_pooling2d","globalAvgPool2d",["concatenate"],false,["GlobalAveragePooling2D",{}]],["flatten","flatten",["global_average_pooling2d"],["Flatten",{}]],["reshape","reshape",["flatten"],[-1],["Reshape",{}]],["dropout","identity",["reshape"],null,["Dropout",{}]],["dense","dense",["dropout"],10,"linear",7,8,["Dense",{"kernel":"dense/kernel","bias":"dense/bias"}]],["activation","activation",["dense"],"softmax",null,["Activation",{}]]],"tensors":[[800,80],[32,3]]}';
const PRIMER_ROUNDS = 3;

function primedModel(): Uint16Array {
  const probs = probabilities(256 * 256);
  const bytes = new TextEncoder().encode(PRIMER);
  const scratch = new RangeEncoder();
  for (let r = 0; r < PRIMER_ROUNDS; r++) {
    let previous = 0;
    for (const b of bytes) {
      scratch.tree(probs, previous << 8, b, 8);
      previous = b;
    }
  }
  return probs;
}

export function encodeText(enc: RangeEncoder, bytes: Uint8Array): void {
  const probs = primedModel();
  let previous = 0;
  for (const b of bytes) {
    enc.tree(probs, previous << 8, b, 8);
    previous = b;
  }
}

export function decodeText(dec: RangeDecoder, length: number): Uint8Array {
  const probs = primedModel();
  const out = new Uint8Array(length);
  let previous = 0;
  for (let i = 0; i < length; i++) {
    previous = dec.tree(probs, previous << 8, 8);
    out[i] = previous;
  }
  return out;
}
