// The library, from the repository's sources: its public entry only (the files behind it move).
// A relative import rather than a "net-trim" alias, so that tsc checks the page as well.
export * from "../../bindings/index.ts";
