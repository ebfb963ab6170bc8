#!/usr/bin/env bash
# Runs the JavaScript tests of the npm package, the parity with the native CLI and the browser
# end-to-end tests (node --test over wasm/test/). Builds wasm/pkg first when it is missing or
# older than its sources.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
if [ ! -f pkg/dplint_wasm_bg.wasm ] || [ ! -f web/dplint/dplint_wasm_bg.wasm ] \
  || [ -n "$(find ../core/src ../core/Cargo.toml src js Cargo.toml ../Cargo.lock -newer pkg/dplint_wasm_bg.wasm -print -quit)" ]; then
  ./build.sh
fi
mkdir -p test-artifacts
node --test --test-concurrency=1 test/
