// The reader's working state: the constant tensors (initializers, sparse initializers, Constant
// nodes), the value every tensor name holds so far (its graph node, ONNX per-sample shape, layout),
// the graph node specs built, and the weight bindings the writer needs.
import type { GraphNodeSpec } from "../../network/graph/types.ts";
import { ModelFormatError } from "../model-format-error.ts";
import type { NodeContext } from "./node-context.ts";
import type { NodeProto, SparseTensorProto, TensorProto } from "./schema.ts";
import { floatValues, intValues, sparseToDense, tensorDims, typeName, type ExternalLoader } from "./tensor-data.ts";
import type { TensorSlot, ValueLayout, WeightBinding } from "./types.ts";
import { DataType } from "./schema.ts";

/** A tensor computed by the graph. */
export interface Value {
  node: string;
  /** Per-sample shape in ONNX order (batch excluded). */
  shape: number[];
  layout: ValueLayout;
  /** Known to be ≥ 0 (a ReLU's output): max pooling may then pad with zeros. */
  nonnegative: boolean;
}

export interface ConstTensor {
  slot: TensorSlot;
  tensor?: TensorProto;
  sparse?: SparseTensorProto;
}

export interface FloatConst {
  values: Float32Array;
  dims: number[];
  dataType: number;
  slot: TensorSlot;
}

export class ReadState {
  readonly specs: GraphNodeSpec[] = [];
  readonly values = new Map<string, Value>();
  readonly constants = new Map<string, ConstTensor>();
  readonly bindings: WeightBinding[] = [];
  /** Uses of every tensor name by the model's nodes and outputs. */
  readonly uses = new Map<string, number>();
  /** Node indices by the tensor names they consume. */
  readonly consumers = new Map<string, number[]>();
  /** Nodes already read as part of another (the Add of a MatMul's bias). */
  readonly fused = new Set<number>();
  /** The batch size when the first model input fixes it (a Reshape may then name it). */
  batch: number | undefined;
  private readonly names = new Set<string>();
  private readonly boundBy = new Map<string, string>();

  constructor(readonly opset: number, readonly nodes: NodeProto[], readonly external: ExternalLoader) {
    nodes.forEach((n, i) => {
      for (const t of n.input ?? []) {
        if (!t) continue;
        this.uses.set(t, (this.uses.get(t) ?? 0) + 1);
        const list = this.consumers.get(t) ?? [];
        list.push(i);
        this.consumers.set(t, list);
      }
    });
  }

  /** The value of input `i` of a node: a tensor the graph computes (not a constant). */
  value(ctx: NodeContext, i: number): Value {
    const name = ctx.input(i);
    const v = this.values.get(name);
    if (v) return v;
    if (this.constants.has(name)) ctx.fail(`input ${i} "${name}" is a constant`, "a tensor computed from the model's inputs", "a constant tensor");
    ctx.fail(`input ${i} "${name}" is not produced by an earlier node`, "a model input or an earlier node's output (nodes in topological order)", name ? `"${name}"` : "no input");
  }

  /** The graph node name for `preferred`, made unique with a numeric suffix when taken. */
  uniqueName(preferred: string): string {
    let name = preferred, k = 1;
    while (this.names.has(name)) name = `${preferred}_${k++}`;
    this.names.add(name);
    return name;
  }

  /** Adds a graph node and records `output` as its value. */
  add(spec: GraphNodeSpec, output: string, shape: number[], layout: ValueLayout, nonnegative = false): void {
    this.specs.push(spec);
    this.values.set(output, { node: spec.name, shape, layout, nonnegative });
  }

  isConstant(name: string): boolean {
    return this.constants.has(name);
  }

  floatConst(name: string, where: string): FloatConst {
    const c = this.constants.get(name);
    if (!c) throw new ModelFormatError({ where, expected: `a constant tensor (initializer or Constant) named "${name}"`, received: this.values.has(name) ? "a tensor computed by the graph" : "no such tensor" });
    if (c.sparse) {
      const d = sparseToDense(c.sparse, `${where} sparse_initializer "${name}"`, this.external);
      return { ...d, slot: c.slot };
    }
    const t = c.tensor!;
    const type = t.data_type ?? 0;
    if (type !== DataType.FLOAT && type !== DataType.FLOAT16) {
      throw new ModelFormatError({ where: `${where} tensor "${name}"`, expected: "FLOAT or FLOAT16 weights", received: typeName(type) });
    }
    return { values: floatValues(t, `${where} tensor "${name}"`, this.external), dims: tensorDims(t), dataType: type, slot: c.slot };
  }

  /** A constant's values as numbers (shapes, pads, Clip bounds), whatever its numeric type. */
  numbersConst(name: string, where: string): number[] {
    const c = this.constants.get(name);
    const t = c?.tensor;
    if (t && (t.data_type === DataType.INT64 || t.data_type === DataType.INT32)) return intValues(t, `${where} tensor "${name}"`, this.external);
    return Array.from(this.floatConst(name, where).values);
  }

  /** Records that graph node `b.node` holds the tensor; a tensor feeds one weight only. */
  bind(b: WeightBinding, where: string): void {
    const other = this.boundBy.get(b.tensor);
    if (other !== undefined) {
      throw new ModelFormatError({
        where, reason: "net-trim prunes each layer's weights on their own, so a weight tensor cannot be shared",
        expected: `tensor "${b.tensor}" used as the weight of one node`, received: `also the weight of "${other}"`,
      });
    }
    this.boundBy.set(b.tensor, b.node);
    this.bindings.push(b);
  }
}
