#!/usr/bin/env bash
# Builds what the WebAssembly benchmark needs, then runs bench/wasm.mjs (JSON on stdout).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f wasm/pkg/dplint_wasm_bg.wasm ] || wasm/build.sh
cargo build --release -p dplint --quiet
node bench/wasm.mjs
