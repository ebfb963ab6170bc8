#!/usr/bin/env bash
# `dplint audit` of a large cluster from recorded API responses (bench/audit.py): 5,000 Nodes, a
# kube-proxy and a calico-node Pod on each, and 200 ConfigMaps in kube-system by default, listed
# page by page (limit/continue), with a sample of kube-proxy logs. Prints dplint's
# CPU time, its ratio to `dplint check` of the same objects in the same run, and the list
# requests per resource.
#
#   bench/audit.sh
#   BENCH_NODES=20000 BENCH_CONFIGMAPS=500 BENCH_RUNS=3 bench/audit.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "== building dplint (release)"
(cd "$root" && cargo build --release -p dplint)
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$root/bench/audit.py" "$target_dir/release/dplint" "${BENCH_RUNS:-5}" \
  "${BENCH_NODES:-5000}" "${BENCH_CONFIGMAPS:-200}"
