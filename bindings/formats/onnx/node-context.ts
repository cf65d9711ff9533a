// One ONNX node while it is read: its attributes by name and type, and the ModelFormatError that
// names the node, its op_type and why it cannot be read.
import { ModelFormatError } from "../model-format-error.ts";
import { int64, type AttributeProto, type NodeProto } from "./schema.ts";

export class NodeContext {
  readonly name: string;
  readonly op: string;
  readonly where: string;
  readonly inputs: string[];
  readonly outputs: string[];
  private readonly attributes = new Map<string, AttributeProto>();

  constructor(readonly node: NodeProto, readonly index: number) {
    this.op = node.op_type ?? "";
    this.name = node.name ?? "";
    this.where = `node ${index}${this.name ? ` "${this.name}"` : ""} (${this.op || "no op_type"})`;
    this.inputs = node.input ?? [];
    this.outputs = node.output ?? [];
    for (const a of node.attribute ?? []) this.attributes.set(a.name ?? "", a);
  }

  fail(reason: string, expected: string, received: string): never {
    throw new ModelFormatError({ where: this.where, layer: this.name || undefined, className: this.op, reason, expected, received });
  }

  /** An unsupported attribute value: names the attribute. */
  refuse(attribute: string, expected: string, received: unknown): never {
    this.fail(`attribute ${attribute} is not supported`, expected, typeof received === "string" ? received : JSON.stringify(received));
  }

  has(name: string): boolean {
    return this.attributes.has(name);
  }

  int(name: string, fallback: number): number {
    const a = this.attributes.get(name);
    return a ? int64(a.i) : fallback;
  }

  ints(name: string, fallback: number[]): number[] {
    const a = this.attributes.get(name);
    return a ? (a.ints ?? []).map(int64) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.attributes.get(name);
    return a ? (a.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.attributes.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  attribute(name: string): AttributeProto | undefined {
    return this.attributes.get(name);
  }

  /** The i-th input's name, or "" when absent (optional inputs may be empty names). */
  input(i: number): string {
    return this.inputs[i] ?? "";
  }
}
