// The ONNX file a PyTorch user would export for a bundled model (NCHW; Gemm with transB = 1, Conv,
// Relu, MaxPool, Flatten), built from the TF.js graph's weights with the project's protobufjs
// schema, so that the size benchmark can write the pruned model as ONNX with sparse initializers.
// Handles the ops of the bundled MLP and CNN only (input, dense relu/linear, conv2d "valid" relu,
// maxPool2d "valid", flatten, identity); the caller checks that parseOnnxModel reads the result
// back to the same weights.
import type { ModelGraph } from "../bindings/index.ts";
import { encodeModel, type NodeProto, type TensorProto } from "../bindings/formats/onnx/schema.ts";

const FLOAT = 1, INT = 2, INTS = 7;

function tensor(name: string, dims: number[], values: Float32Array): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { name, dims, data_type: FLOAT, raw_data: raw };
}

const ints = (name: string, values: number[]) => ({ name, type: INTS, ints: values });

export function onnxOfGraph(graph: ModelGraph): Uint8Array {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const output = new Map<string, string>(); // graph node → the ONNX tensor holding its output
  const shapes = new Map(graph.nodes.map((n) => [n.name, n.shape]));
  let inputInfo: { name: string; dims: number[] } | undefined;
  for (const n of graph.nodes) {
    const x = n.inputs.length ? output.get(n.inputs[0])! : "";
    const act = (name: string, activation: string) => {
      if (activation === "linear") return name;
      if (activation !== "relu") throw new Error(`onnxOfGraph: activation ${activation}`);
      nodes.push({ name: `${n.name}_relu`, op_type: "Relu", input: [name], output: [`${n.name}_relu`] });
      return `${n.name}_relu`;
    };
    switch (n.op) {
      case "input": {
        const s = n.shape;
        inputInfo = { name: n.name, dims: s.length === 3 ? [s[2], s[0], s[1]] : s };
        output.set(n.name, n.name);
        break;
      }
      case "dense": {
        const inShape = shapes.get(n.inputs[0])!;
        const rows = n.kernel.length / n.units;
        // Gemm B is [units, in] with transB = 1; after an NHWC flatten the rows follow ONNX's (c, h, w) order.
        const b = new Float32Array(n.kernel.length);
        const image = graph.nodes.find((m) => m.name === n.inputs[0])?.op === "flatten" ? shapes.get(graph.nodes.find((m) => m.name === n.inputs[0])!.inputs[0])! : undefined;
        for (let r = 0; r < rows; r++) {
          let g = r;
          if (image && image.length === 3) {
            const [H, W, C] = image;
            const c = Math.floor(r / (H * W)), h = Math.floor((r % (H * W)) / W), w = r % W;
            g = (h * W + w) * C + c;
          }
          for (let u = 0; u < n.units; u++) b[u * rows + r] = n.kernel[g * n.units + u];
        }
        if (inShape.length !== 1) throw new Error("onnxOfGraph: dense over a non-flat input");
        initializers.push(tensor(`${n.name}.weight`, [n.units, rows], b));
        const inputs = [x, `${n.name}.weight`];
        if (n.bias) {
          initializers.push(tensor(`${n.name}.bias`, [n.units], n.bias));
          inputs.push(`${n.name}.bias`);
        }
        nodes.push({ name: n.name, op_type: "Gemm", input: inputs, output: [n.name], attribute: [{ name: "transB", type: INT, i: 1 }] });
        output.set(n.name, act(n.name, n.activation));
        break;
      }
      case "conv2d": {
        const [kh, kw] = n.kernelSize;
        const c = n.kernel.length / (kh * kw * n.filters);
        if (n.padding !== "valid" || n.strides.some((s) => s !== 1) || n.dilation.some((d) => d !== 1)) throw new Error("onnxOfGraph: conv geometry");
        const w = new Float32Array(n.kernel.length); // [kh, kw, C, M] → [M, C, kh, kw]
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < c; ci++) for (let m = 0; m < n.filters; m++) {
          w[((m * c + ci) * kh + i) * kw + j] = n.kernel[((i * kw + j) * c + ci) * n.filters + m];
        }
        initializers.push(tensor(`${n.name}.weight`, [n.filters, c, kh, kw], w));
        const inputs = [x, `${n.name}.weight`];
        if (n.bias) {
          initializers.push(tensor(`${n.name}.bias`, [n.filters], n.bias));
          inputs.push(`${n.name}.bias`);
        }
        nodes.push({ name: n.name, op_type: "Conv", input: inputs, output: [n.name], attribute: [ints("kernel_shape", [kh, kw]), ints("strides", [1, 1]), ints("pads", [0, 0, 0, 0])] });
        output.set(n.name, act(n.name, n.activation));
        break;
      }
      case "maxPool2d":
        if (n.padding !== "valid") throw new Error("onnxOfGraph: pool padding");
        nodes.push({ name: n.name, op_type: "MaxPool", input: [x], output: [n.name], attribute: [ints("kernel_shape", [...n.poolSize]), ints("strides", [...n.strides])] });
        output.set(n.name, n.name);
        break;
      case "flatten":
        nodes.push({ name: n.name, op_type: "Flatten", input: [x], output: [n.name], attribute: [{ name: "axis", type: INT, i: 1 }] });
        output.set(n.name, n.name);
        break;
      case "identity":
        output.set(n.name, x);
        break;
      default:
        throw new Error(`onnxOfGraph: op ${n.op}`);
    }
  }
  const valueInfo = (name: string, dims: number[]) => ({
    name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: "N" }, ...dims.map((d) => ({ dim_value: d }))] } } },
  });
  const last = graph.nodes.find((n) => n.name === graph.outputs[0])!;
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: "", version: 13 }], producer_name: "net-trim bench",
    graph: {
      name: "bundled", node: nodes, initializer: initializers,
      input: [valueInfo(inputInfo!.name, inputInfo!.dims)], output: [valueInfo(output.get(last.name)!, last.shape)],
    },
  });
}
