#!/usr/bin/env bash
# The test command: installs what the tests need (npm packages, Debian's Chromium for the
# browser tests, Debian's redis-server for the queue tests) when missing, builds both wasm binaries, runs the as-pect kernel specs (SIMD
# and scalar builds) and the vitest suites (Node and headless Chromium), and ends with one line
# "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# A symlinked node_modules is an install shared with other checkouts (git worktrees): npm ci would
# empty it under them (a fresh checkout's package-lock.json is newer than it), so it is left alone.
if [ -L node_modules ]; then
  [ -d node_modules ] || { echo "node_modules is a broken symlink"; exit 1; }
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund || exit 1
fi
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null || { echo "could not install chromium"; exit 1; }
  else
    echo "Chromium is needed for the browser tests: apt-get install -y chromium (as root), or set CHROMIUM_PATH"; exit 1
  fi
fi

# The queue runner's tests start a real redis-server (Debian's package).
if [ ! -x /usr/bin/redis-server ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null || { echo "could not install redis-server"; exit 1; }
  else
    echo "redis-server is needed for the queue tests: apt-get install -y redis-server (as root)"; exit 1
  fi
fi

passed=0
failed=0
log=$(mktemp)
buildlog=$(mktemp)

# The wasm build and the as-pect specs (which compile their own) are single-threaded: the build
# runs beside the specs, one core each, and is waited for before vitest, which loads build/.
npm run asbuild >"$buildlog" 2>&1 &
build_pid=$!

# as-pect: "[Tests]: X / Y" per run (colour codes stripped).
count_aspect() {
  local line x y
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\s*\[Tests\]:' | tail -1)
  x=$(echo "$line" | sed -E 's/.*\[Tests\]: *([0-9]+) *\/ *([0-9]+).*/\1/')
  y=$(echo "$line" | sed -E 's/.*\[Tests\]: *([0-9]+) *\/ *([0-9]+).*/\2/')
  if [ -z "$line" ] || [ "$2" != 0 ]; then
    # A run that did not finish counts as one failure beyond what it reported.
    passed=$((passed + ${x:-0})); failed=$((failed + ${y:-0} - ${x:-0} + 1)); return
  fi
  passed=$((passed + x)); failed=$((failed + y - x))
}
echo "== as-pect (SIMD build)"
npx asp --config as-pect.config.js >"$log" 2>&1; rc=$?
tail -n 8 "$log"; count_aspect "$log" $rc
echo "== as-pect (scalar build)"
npx asp --config as-pect.scalar.config.js --as-config as-pect.scalar.asconfig.json >"$log" 2>&1; rc=$?
tail -n 8 "$log"; count_aspect "$log" $rc

echo "== wasm build"
wait "$build_pid"; rc=$?
cat "$buildlog"; rm -f "$buildlog"
if [ "$rc" != 0 ]; then rm -f "$log"; echo "$passed passed, $((failed + 1)) failed"; exit 1; fi

echo "== vitest (Node and Chromium)"
json=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile.json="$json"; rc=$?
read -r vp vf < <(node -e '
  const fs = require("fs");
  let r; try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log("0 1"); process.exit(0); }
  // Suites that failed to load have no assertion results: count each as a failure.
  const broken = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
  console.log(r.numPassedTests, r.numFailedTests + broken);
' "$json")
if [ "$rc" != 0 ] && [ "$vf" = 0 ]; then vf=1; fi
passed=$((passed + vp)); failed=$((failed + vf))
# TEST_REPORT_JSON=path keeps vitest's JSON report (per-file durations) for timing the suite.
if [ -n "${TEST_REPORT_JSON:-}" ]; then cp "$json" "$TEST_REPORT_JSON"; fi
rm -f "$log" "$json"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
