// Small TF.js LayersModel files of Dense chains made without TF.js (so the fuzz script starts fast):
// model.json as TF.js saves a Sequential model, or as Keras 3 saves a functional one, and the
// weight buffer with seeded values. The values are also returned, to check what a reader read.

export interface DenseModelFiles {
  modelJson: any;
  weightData: ArrayBuffer;
  /** Per layer: kernel [inputs, units] row-major and bias (empty when use_bias is false). */
  weights: { kernel: Float32Array; bias: Float32Array }[];
}

export interface DenseModelOptions {
  /** [inputs, units of layer 1, units of layer 2, ...]. */
  sizes: number[];
  seed: number;
  form?: "sequential" | "keras3";
  /** Per layer; the last one defaults to "softmax" when `softmax` is set, the others to "relu". */
  useBias?: boolean[];
  softmax?: boolean;
  /** Store every weight uint8-quantized (q·scale + min over [-1, 1]) as the TF.js converter does. */
  quantized?: boolean;
  /** Store every weight as float16 (values rounded to the nearest half). */
  float16?: boolean;
  /** Layers after the first in a second manifest group (file "group2.bin"). */
  twoGroups?: boolean;
}

/** The IEEE half-precision bits nearest to v (|v| < 65504), and their value. */
function half(v: number): { bits: number; value: number } {
  const sign = v < 0 ? 0x8000 : 0, a = Math.abs(v);
  let bits: number;
  if (a < 2 ** -14) bits = sign | Math.round(a / 2 ** -24);
  else {
    let e = Math.floor(Math.log2(a)), m = Math.round((a / 2 ** e - 1) * 1024);
    if (m === 1024) { m = 0; e++; }
    bits = sign | ((e + 15) << 10) | m;
  }
  const e = (bits >> 10) & 0x1f, m = bits & 0x3ff, s = bits & 0x8000 ? -1 : 1;
  return { bits, value: e === 0 ? s * m * 2 ** -24 : s * (1024 + m) * 2 ** (e - 25) };
}

const Q_MIN = -1, Q_SCALE = 2 / 255;

/** Deterministic numbers in [-1, 1) (mulberry32). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function kerasTensor(from: string, features: number) {
  return { class_name: "__keras_tensor__", config: { shape: [null, features], dtype: "float32", keras_history: [from, 0, 0] } };
}

export function denseModel(o: DenseModelOptions): DenseModelFiles {
  const next = uniform(o.seed);
  const layers: any[] = [];
  const manifest: { name: string; shape: number[]; dtype: string; group: number; quantization?: object }[] = [];
  const weights: DenseModelFiles["weights"] = [];
  const n = o.sizes.length - 1;
  for (let i = 0; i < n; i++) {
    const [inputs, units] = [o.sizes[i], o.sizes[i + 1]];
    const name = `dense_${i + 1}`;
    const useBias = o.useBias?.[i] ?? true;
    const activation = i === n - 1 ? (o.softmax ? "softmax" : "linear") : "relu";
    const config: any = { name, trainable: true, units, activation, use_bias: useBias, dtype: "float32" };
    if (i === 0 && o.form !== "keras3") config.batch_input_shape = [null, inputs];
    const layer: any = { class_name: "Dense", config };
    if (o.form === "keras3") {
      layer.name = name;
      layer.module = "keras.layers";
      layer.inbound_nodes = [{ args: [kerasTensor(i === 0 ? "input_layer" : `dense_${i}`, inputs)], kwargs: {} }];
    }
    layers.push(layer);
    let kernel = Float32Array.from({ length: inputs * units }, next);
    let bias = useBias ? Float32Array.from({ length: units }, () => next() * 0.5) : new Float32Array(0);
    // Quantized: the values become what a reader decodes (q·scale + min, in float64, rounded to float32).
    const onGrid = (a: Float32Array) => a.map((v) => Math.round((v - Q_MIN) / Q_SCALE) * Q_SCALE + Q_MIN);
    if (o.quantized) { kernel = onGrid(kernel); bias = onGrid(bias); }
    if (o.float16) { kernel = kernel.map((v) => half(v).value); bias = bias.map((v) => half(v).value); }
    const quantization = o.quantized ? { quantization: { dtype: "uint8", scale: Q_SCALE, min: Q_MIN } } : {};
    const dtype = o.float16 ? "float16" : "float32";
    const group = o.twoGroups && i > 0 ? 1 : 0;
    manifest.push({ name: `${name}/kernel`, shape: [inputs, units], dtype, group, ...quantization });
    if (useBias) manifest.push({ name: `${name}/bias`, shape: [units], dtype, group, ...quantization });
    weights.push({ kernel, bias });
  }
  let topology: any;
  if (o.form === "keras3") {
    layers.unshift({ class_name: "InputLayer", name: "input_layer", module: "keras.layers", config: { name: "input_layer", batch_shape: [null, o.sizes[0]], dtype: "float32", sparse: false }, inbound_nodes: [] });
    topology = {
      class_name: "Functional",
      config: { name: "functional", layers, input_layers: [["input_layer", 0, 0]], output_layers: [[`dense_${n}`, 0, 0]] },
    };
  } else {
    topology = { class_name: "Sequential", config: { name: "sequential", layers } };
  }
  const total = weights.reduce((a, w) => a + w.kernel.length + w.bias.length, 0);
  const data = o.quantized ? new Uint8Array(total) : o.float16 ? new Uint16Array(total) : new Float32Array(total);
  let off = 0;
  for (const w of weights) {
    for (const a of [w.kernel, w.bias]) {
      data.set(o.quantized ? a.map((v) => Math.round((v - Q_MIN) / Q_SCALE)) : o.float16 ? Array.from(a, (v) => half(v).bits) : a, off);
      off += a.length;
    }
  }
  // Groups in manifest order: the one buffer holds group 0's data, then group 1's.
  const entries = (g: number) => manifest.filter((e) => e.group === g).map(({ group: _, ...e }) => e);
  const weightsManifest = [{ paths: ["weights.bin"], weights: entries(0) }];
  if (o.twoGroups) weightsManifest.push({ paths: ["group2.bin"], weights: entries(1) });
  return {
    modelJson: { format: "layers-model", generatedBy: "test", convertedBy: null, modelTopology: topology, weightsManifest },
    weightData: data.buffer as ArrayBuffer,
    weights,
  };
}

/** A JSON value nested `depth` levels deep: [[[...[leaf]...]]] built without recursion. */
export function nested(depth: number, leaf: unknown = "float32", asObject = false): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { config: v } : [v];
  return v;
}
