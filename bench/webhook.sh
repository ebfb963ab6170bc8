#!/usr/bin/env bash
# The webhook benchmark: `dplint serve` against an allow-all axum+rustls server (same TLS and
# HTTP stack), in the same run, over loopback TLS keep-alive with HTTP/2 (as kube-apiserver).
#
#   bench/webhook.sh                          # 10 s per measurement, both modes
#   DURATION=30 MODES=distinct bench/webhook.sh
#
# Two modes of request bodies (MODES, default "same distinct"):
#   same      the captured AdmissionReview every time: after the first request every answer of
#             dplint comes from its decision cache;
#   distinct  every request with its own uid, object resourceVersion and a `bench.dplint.io/seq`
#             annotation (`allow-all load --distinct`), as kube-apiserver sends updates: the
#             decision cache never hits, every request is checked.
# For each mode, fresh servers, then two interleaved rounds (allow-all, dplint, allow-all,
# dplint) of: throughput at saturation (CONCURRENCY in flight over CONNECTIONS connections) and
# p50/p99 at a fixed RATE per second. For dplint, the decision-cache hit rate of each run (from
# /metrics before and after it). CPU of the generator against the server's, per run (from
# /proc/PID/stat), shows the generator is not the bottleneck. Memory: VmRSS after the mode's
# runs and VmHWM (peak). The summary compares dplint with the baseline of the same run.
#
# The request is a real AdmissionReview captured from kube-apiserver v1.36 (kube-proxy ConfigMap
# update to nftables, 8 KB), which dplint checks fully (it carries a KubeProxyConfiguration).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${DURATION:-10}"
RATE="${RATE:-2000}"
CONNECTIONS="${CONNECTIONS:-4}"
CONCURRENCY="${CONCURRENCY:-32}"
MODES="${MODES:-same distinct}"

. bench/webhook-common.sh

"$bin/allow-all" cert "$work"
fixture=../shared/fixtures/admission/configmap-kube-proxy-update-apply-mode-nftables.json
if [ -f "$fixture" ]; then
  python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$fixture" > "$work/body.json"
else
  echo "missing $fixture" >&2
  exit 1
fi

wait_for_field() { # FILE FIELD -> prints the address once logged
  local file=$1
  for _ in $(seq 1 300); do
    addr=$(grep -o "\"$2\":\"[^\"]*\"" "$file" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    if [ -n "$addr" ]; then echo "$addr"; return 0; fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$file")" >&2
  return 1
}
load() { # ADDR EXTRA... -> JSON line
  "$bin/allow-all" load --addr "$1" --ca "$work/ca.crt" --body "$work/body.json" \
    --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 2 "${@:2}"
}
mem() { # PID -> "rss_mib peak_mib"
  awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "%.1f %.1f", r/1024, h/1024}' "/proc/$1/status"
}
ticks() { # PID -> user + system clock ticks so far
  awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}
lookups() { # HEALTH -> "hits misses" of the decision cache
  { curl -sf "http://$1/metrics" || true; } | awk '/^dplint_webhook_decision_cache_lookups_total/ {
    if ($0 ~ /result="hit"/) h = $NF; else if ($0 ~ /result="miss"/) m = $NF } END {print h + 0, m + 0}'
}

results="$work/results"
: > "$results"
echo "body: $(wc -c < "$work/body.json") bytes; ${DURATION}s per run after 2 s warm-up; $(nproc) cores; HTTP/2, $CONNECTIONS connections, $CONCURRENCY in flight at saturation; modes: $MODES"
printf '%-9s %-10s %-10s %9s %8s %8s %7s %9s %9s\n' mode server run req/s p50_ms p99_ms errors cache_hit gen/srv_cpu
for mode in $MODES; do
  extra=()
  [ "$mode" = distinct ] && extra=(--distinct)
  RUST_LOG=warn,dplint_webhook::server=info "$bin/dplint" serve --no-cluster-state \
    --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" \
    --listen 127.0.0.1:0 --health-listen 127.0.0.1:0 2> "$work/dplint-$mode.log" &
  dplint_pid=$!; pids+=("$dplint_pid")
  "$bin/allow-all" serve --listen 127.0.0.1:0 \
    --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" > "$work/allow-$mode.log" &
  allow_pid=$!; pids+=("$allow_pid")
  dplint_addr=$(wait_for_field "$work/dplint-$mode.log" admission)
  dplint_health=$(wait_for_field "$work/dplint-$mode.log" health)
  allow_addr=$(wait_for_field "$work/allow-$mode.log" admission)
  for name in allow-all dplint allow-all dplint; do
    if [ "$name" = dplint ]; then addr=$dplint_addr pid=$dplint_pid; else addr=$allow_addr pid=$allow_pid; fi
    for run in saturation "${RATE}/s"; do
      rate=()
      [ "$run" != saturation ] && rate=(--rate "$RATE")
      read -r h0 m0 < <(lookups "$dplint_health")
      t0=$(ticks "$pid")
      out=$(load "$addr" "${extra[@]}" "${rate[@]}")
      t1=$(ticks "$pid")
      read -r h1 m1 < <(lookups "$dplint_health")
      hit=-
      if [ "$name" = dplint ]; then
        hit=$(awk -v h=$((h1 - h0)) -v m=$((m1 - m0)) 'BEGIN {printf "%.1f%%", (h + m) ? 100 * h / (h + m) : 0}')
      fi
      echo "$out" | jq -r --arg mode "$mode" --arg name "$name" --arg run "$run" --arg hit "$hit" --argjson srv $((t1 - t0)) \
        '[$mode, $name, $run, (.rps | floor), .p50_ms, .p99_ms, .errors, $hit,
          (if $srv > 0 then (100 * .cpu_ticks / $srv | floor | tostring) + "%" else "-" end)] | @tsv' \
        | tee -a "$results" | awk -F'\t' '{printf "%-9s %-10s %-10s %9s %8.2f %8.2f %7s %9s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
    done
  done
  read -r rss hwm <<< "$(mem "$dplint_pid")"
  read -r arss ahwm <<< "$(mem "$allow_pid")"
  printf '%s\tmemory\t%s\t%s\t%s\t%s\n' "$mode" "$rss" "$hwm" "$arss" "$ahwm" >> "$results"
  printf '%-9s %-10s rss/peak MiB: %s / %s\n' "$mode" allow-all "$arss" "$ahwm"
  printf '%-9s %-10s rss/peak MiB: %s / %s\n' "$mode" dplint "$rss" "$hwm"
  kill "$dplint_pid" "$allow_pid" 2>/dev/null || true
  wait "$dplint_pid" "$allow_pid" 2>/dev/null || true
done

echo
echo "summary (dplint against the allow-all baseline of the same run; targets: throughput >= 0.9x, p99 <= baseline + 1 ms, RSS <= 30 MiB)"
python3 - "$results" "$RATE" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rate = sys.argv[2] + "/s"
print(f"{'mode':<9} {'throughput dplint/base':<26} {'p99 at ' + rate + ' dplint-base':<28} {'dplint RSS / peak':<20} {'cache hits':<18} met")
for mode in dict.fromkeys(r[0] for r in rows):
    runs = [r for r in rows if r[0] == mode and r[1] != "memory"]
    def col(server, run, i):
        return [float(r[i]) for r in runs if r[1] == server and r[2] == run]
    base, dp = col("allow-all", "saturation", 3), col("dplint", "saturation", 3)
    ratios = [d / b for d, b in zip(dp, base) if b]
    p99 = [d - b for d, b in zip(col("dplint", rate, 5), col("allow-all", rate, 5))]
    mem = next(r for r in rows if r[0] == mode and r[1] == "memory")
    hits = "/".join(r[7] for r in runs if r[1] == "dplint")
    errors = sum(int(r[6]) for r in runs)
    met = [min(ratios) >= 0.9, max(p99) <= 1.0, float(mem[3]) <= 30.0, errors == 0]
    print(f"{mode:<9} {' / '.join(f'{x:.2f}x' for x in ratios):<26} {' / '.join(f'{x:+.2f} ms' for x in p99):<28} "
          f"{mem[2]} / {mem[3]} MiB{'':<5} {hits:<18} "
          f"throughput {'yes' if met[0] else 'no'}, p99 {'yes' if met[1] else 'no'}, RSS {'yes' if met[2] else 'no'}"
          f"{'' if met[3] else f', {errors} errors'}")
EOF
