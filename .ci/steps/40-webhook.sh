#!/usr/bin/env bash
# The admission webhook (webhook/, `dplint serve`). Its tests (tests/tests/webhook_*.rs) run in
# `cargo test --workspace`: they generate their certificates with rcgen and bind 127.0.0.1:0,
# so nothing needs installing. This step checks what the workspace run does not: the benchmark
# crate builds, and the benchmark script is valid bash.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --locked -p dplint-bench-allow-all
bash -n bench/webhook.sh
