#!/usr/bin/env bash
# dplint's throughput benchmark against bare YAML parsing with the same parser.
#
#   bench/run.sh                                   # 110 MB manifest set, 5 rounds
#   BENCH_SIZE_MB=20 BENCH_RUNS=3 BENCH_CALLGRIND=0 bench/run.sh
#
# Builds with `--profile profiling` (release code, so the timings are a release build's, plus
# line tables so callgrind can count per function), generates a deterministic manifest set into
# bench/out/ (not committed; regenerated only when the size or seed changes), then times, in
# interleaved rounds so that the machine's noise hits every command alike:
#   dplint check -j N                 (N = 1, 2; BENCH_JOBS changes the list)
#   yaml-baseline --mode events -j N  (saphyr-parser events, counted)
#   yaml-baseline --mode tree -j N    (saphyr MarkedYaml trees)
# and prints MB/s, objects/s, peak RSS, and dplint's throughput relative to each baseline from
# the median wall time, the best wall time and the CPU time (on a shared, noisy machine the CPU
# time and the best run are steadier than the median). Then it counts instructions with
# valgrind's callgrind on a ~11 MB subset at -j1, which does not depend on the machine's load
# (BENCH_CALLGRIND=0 skips it). Results also go to bench/out/results.md and results.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bench/out"
size_mb="${BENCH_SIZE_MB:-110}"
runs="${BENCH_RUNS:-5}"
seed="${BENCH_SEED:-42}"
jobs_list="${BENCH_JOBS:-1 2}"

echo "== building optimised binaries with line tables (profile profiling)"
(cd "$root" && cargo build --profile profiling -p dplint -p dplint-bench-baseline)
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
dplint="$target_dir/profiling/dplint"
baseline="$target_dir/profiling/yaml-baseline"

echo "== manifests: ${size_mb} MB, seed $seed, in $out/manifests"
mkdir -p "$out"
stats="$out/stats.json"
if [ -f "$stats" ] && python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s.get("seed") == int(sys.argv[3]) and s.get("size_mb") == float(sys.argv[2]) else 1)
' "$stats" "$size_mb" "$seed"; then
  echo "(already generated)"
else
  python3 "$root/bench/gen_manifests.py" "$out" --size-mb "$size_mb" --seed "$seed"
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); s["size_mb"] = float(sys.argv[2])
json.dump(s, open(sys.argv[1], "w"), indent=2)
' "$stats" "$size_mb"
fi

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$dplint" --version

echo "== timing: $runs interleaved rounds after one checking round"
python3 "$root/bench/measure.py" time "$out" "$dplint" "$baseline" "$runs" "$jobs_list"

if [ "${BENCH_CALLGRIND:-1}" != "0" ]; then
  echo
  if command -v valgrind >/dev/null 2>&1; then
    echo "== instructions: callgrind, -j1, clusters cluster-0000 … cluster-0079"
    python3 "$root/bench/measure.py" callgrind "$out" "$dplint" "$baseline" \
      "$out"/manifests/clusters/cluster-00[0-7][0-9]
  else
    echo "== callgrind skipped: valgrind is not installed (apt-get install valgrind)"
  fi
fi
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
