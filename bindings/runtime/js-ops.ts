// The ops the runtime leaves to the graph's JS forward pass (bindings/network/graph/ops-*.ts):
// BatchNorm (unfolded), global average pooling, zero padding, upsampling, Add, Concat, and the
// sigmoid/tanh/softmax activations. They are cheap next to the layers and give the same bits as
// forwardGraph. (ReLU/ReLU6, max and average pooling, Dense and conv run in wasm.)
import { GraphError } from "../errors.ts";
import { applyActivation } from "../network/graph/activations.ts";
import { batchNormForward } from "../network/graph/ops-linear.ts";
import { addForward, concatForward } from "../network/graph/ops-merge.ts";
import { globalAvgPoolForward, upSampleForward, zeroPadForward } from "../network/graph/ops-spatial.ts";
import type { GraphNode } from "../network/graph/types.ts";

/** The output of `node` (a fresh array) from its inputs' arrays and shapes, for `rows` samples. */
export function runJsOp(node: GraphNode, args: Float32Array[], shapes: number[][], rows: number): Float32Array {
  switch (node.op) {
    case "batchNorm": return batchNormForward(node, args[0]);
    case "globalAvgPool2d": return globalAvgPoolForward(node, args[0], rows, shapes[0]);
    case "zeroPad2d": return zeroPadForward(node, args[0], rows, shapes[0]);
    case "upSample2d": return upSampleForward(node, args[0], rows, shapes[0]);
    case "add": return addForward(args);
    case "concat": return concatForward(node, args, shapes, rows);
    case "activation": {
      const out = args[0].slice();
      applyActivation(out, node.shape[node.shape.length - 1], node.activation);
      return out;
    }
    default: throw new GraphError(node.name, node.op, "has no operator in the sparse runtime");
  }
}

