#!/usr/bin/env bash
# The main job: installs the npm packages when missing, builds the wasm kernels, prunes the
# bundled MNIST model and prints what it did. Extra arguments go to examples/prune-mnist.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
# A symlinked node_modules is shared with other checkouts (git worktrees): npm ci would empty it under them.
if [ ! -L node_modules ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; }; then npm ci --no-audit --no-fund; fi
npm run --silent asbuild
exec npx tsx examples/prune-mnist.ts "$@"
