#!/usr/bin/env bash
# The admission webhook (webhook/, `dplint serve`). Its tests (tests/tests/webhook_*.rs) run in
# `cargo test --workspace`: they generate their certificates with rcgen and bind 127.0.0.1:0,
# so nothing needs installing. This step checks what the workspace run does not: the benchmark
# crate builds, the scripts are valid, and the short soak (bench/soak.sh with SOAK_QUICK=1:
# a fixed-rate run, certificate rotation, cluster API faults, slowloris and idle connections,
# many streams on one connection) passes against release binaries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --locked -p dplint-bench-allow-all
bash -n bench/webhook.sh
bash -n bench/soak.sh
bash -n bench/webhook-common.sh
python3 -m py_compile bench/fake_kube_api.py

# Release binaries without link-time optimisation and with more codegen units: the soak needs
# optimised code, not the shipped binary's last few percent, and this build takes a fraction of
# the time of the release profile's.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
cargo build --locked --release --quiet -p dplint -p dplint-bench-allow-all
# The soak checks robustness (no failed request, flat memory, faults survived), not speed: the
# rate stays well below what a CI machine answers for distinct objects, whose every request
# is a full check. bench/soak.sh's own default (2,000/s) is the benchmark's, for a real machine.
SKIP_BUILD=1 SOAK_QUICK=1 RATE="${SOAK_RATE:-250}" timeout 240 bench/soak.sh
