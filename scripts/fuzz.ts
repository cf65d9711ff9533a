// npm run fuzz: every reader's fuzz target (test/helpers/fuzz-targets.ts) on 100,000 seeded cases
// (`--runs N`, `--seed S`, `--only <name prefix>`), in batches so memory stays flat. Prints per
// reader the cases, accepted, refused by error class, failures and the slowest case (the reading
// and writing, not the building of the mutated input), the first
// failures with the fast-check seed and path to replay them, and writes bench/results/fuzz-<date>.json.
// Exits 1 when any case failed.
import { mkdirSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { allTargets } from "../test/helpers/fuzz-targets.ts";
import { runCase } from "../test/helpers/fuzz-run.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const runs = flag("runs", 100_000);
const seed = flag("seed", 20261202);
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const BATCH = 1_000;

const rows = [];
for (const target of await allTargets()) {
  if (only && !target.name.startsWith(only)) continue;
  const refused: Record<string, number> = {};
  const failures: { batchSeed: number; index: number; failure: string; input: string }[] = [];
  let accepted = 0, failed = 0, slowest = 0, slowestInput = "";
  const started = performance.now();
  for (let done = 0; done < runs; done += BATCH) {
    const batchSeed = seed + done;
    const inputs = fc.sample(target.arbitrary, { seed: batchSeed, numRuns: Math.min(BATCH, runs - done) });
    inputs.forEach((input, index) => {
      const r = runCase(target, input);
      if (r.ms > slowest) { slowest = r.ms; slowestInput = fc.stringify(input).slice(0, 300); }
      if (r.failure) {
        failed++;
        if (failures.length < 10) failures.push({ batchSeed, index, failure: r.failure, input: fc.stringify(input).slice(0, 600) });
      } else if (r.outcome === "accepted") accepted++;
      else refused[r.outcome] = (refused[r.outcome] ?? 0) + 1;
    });
  }
  target.dispose?.();
  const seconds = (performance.now() - started) / 1000;
  const row = { reader: target.name, cases: runs, accepted, refused, failures: failed, slowestMs: Number(slowest.toFixed(1)), slowestInput, seconds: Number(seconds.toFixed(1)), firstFailures: failures };
  rows.push(row);
  console.log(`${target.name}: ${runs} cases, ${accepted} accepted, refused ${Object.entries(refused).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}, ${failed} failures, slowest ${row.slowestMs} ms (${row.seconds} s)`);
  for (const f of failures) console.log(`  failure (seed ${f.batchSeed}, case ${f.index}): ${f.failure}\n    input: ${f.input}`);
}

console.log("\n| reader | cases | accepted | refused (by class) | failures | slowest case (ms) |\n|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.reader} | ${r.cases} | ${r.accepted} | ${Object.entries(r.refused).map(([k, v]) => `${k} ${v}`).join(", ")} | ${r.failures} | ${r.slowestMs} |`);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/fuzz-${new Date().toISOString().slice(0, 10)}${only || runs !== 100_000 ? "-partial" : ""}.json`;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, seed, runs, rows }, null, 2));
console.log(`\nwrote ${file}`);
process.exitCode = rows.some((r) => r.failures > 0) ? 1 : 0;
