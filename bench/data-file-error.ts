// The error the benchmarks' data readers (bench/png.ts, bench/cifar-images.ts) throw on a file
// they cannot read: a NetTrimError like the library's own, naming the field, what was expected
// and what was received.
import { NetTrimError } from "../bindings/errors.ts";

export class DataFileError extends NetTrimError {
  readonly field: string;
  constructor(field: string, expected: string, received: string) {
    super("invalid_option", `${field}: expected ${expected}, received ${received}`);
    this.name = "DataFileError";
    this.field = field;
  }
}
