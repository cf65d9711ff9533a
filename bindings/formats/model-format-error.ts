// The error a model file (or masks file) that cannot be read as a prunable network gets.
import { NetTrimError, type NetTrimErrorCode } from "../errors.ts";

export interface ModelFormatErrorDetails {
  /** What is wrong where: 'layer "conv1" (Conv2D)', 'weightsManifest[0].weights[3] "dense/kernel"', ... */
  where: string;
  expected: string;
  received: string;
  /** Why it can't be used, when that is not obvious from expected/received. */
  reason?: string;
  layer?: string;
  className?: string;
  file?: string;
  code?: NetTrimErrorCode;
}

/**
 * model.json or its weights can't be read as a prunable Dense network. Code "invalid_option", or
 * "shape_mismatch" when shapes disagree (consecutive layers, a weight's shape against its layer).
 */
export class ModelFormatError extends NetTrimError {
  readonly field: string;
  readonly layer?: string;
  readonly className?: string;
  readonly file?: string;
  constructor(d: ModelFormatErrorDetails) {
    super(
      d.code ?? "invalid_option",
      `${d.where}: ${d.reason ? `${d.reason}; ` : ""}expected ${d.expected}, received ${d.received}`,
    );
    this.name = "ModelFormatError"; // a literal: minifiers rename classes (see errors.ts)
    this.field = d.where;
    this.layer = d.layer;
    this.className = d.className;
    this.file = d.file;
  }
}
