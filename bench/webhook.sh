#!/usr/bin/env bash
# The webhook benchmark: `dplint serve` against an allow-all axum+rustls server (same TLS and
# HTTP stack), in the same run, over loopback TLS keep-alive with HTTP/2 (as kube-apiserver).
#
#   bench/webhook.sh                 # 10 s per measurement
#   DURATION=30 bench/webhook.sh
#
# Measures, for each server: throughput at saturation, p50/p99 at a fixed 2,000 req/s, and
# resident memory (VmRSS after the runs, VmHWM peak). The request is a real AdmissionReview
# captured from kube-apiserver v1.36 (kube-proxy ConfigMap update to nftables, 8 KB), which
# dplint checks fully (it carries a KubeProxyConfiguration).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${DURATION:-10}"
RATE="${RATE:-2000}"
CONNECTIONS="${CONNECTIONS:-4}"
CONCURRENCY="${CONCURRENCY:-32}"

cargo build --release --quiet -p dplint -p dplint-bench-allow-all
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/allow-all" cert "$work"
fixture=../shared/fixtures/admission/configmap-kube-proxy-update-apply-mode-nftables.json
if [ -f "$fixture" ]; then
  python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$fixture" > "$work/body.json"
else
  echo "missing $fixture" >&2
  exit 1
fi

wait_for_addr() { # FILE -> prints the admission address once logged
  local file=$1
  for _ in $(seq 1 300); do
    addr=$(grep -o '"admission":"[^"]*"' "$file" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    if [ -n "$addr" ]; then echo "$addr"; return 0; fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$file")" >&2
  return 1
}

RUST_LOG=warn,dplint_webhook::server=info "$bin/dplint" serve --no-cluster-state \
  --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" \
  --listen 127.0.0.1:0 --health-listen 127.0.0.1:0 2> "$work/dplint.log" &
pids+=($!); dplint_pid=$!
"$bin/allow-all" serve --listen 127.0.0.1:0 \
  --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" > "$work/allow.log" &
pids+=($!); allow_pid=$!
dplint_addr=$(wait_for_addr "$work/dplint.log")
allow_addr=$(wait_for_addr "$work/allow.log")

load() { # ADDR EXTRA... -> JSON line
  "$bin/allow-all" load --addr "$1" --ca "$work/ca.crt" --body "$work/body.json" \
    --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 2 "${@:2}"
}
mem() { # PID -> "rss_mib peak_mib"
  awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "%.1f %.1f", r/1024, h/1024}' "/proc/$1/status"
}

echo "body: $(wc -c < "$work/body.json") bytes; ${DURATION}s per run; $(nproc) cores; HTTP/2, $CONNECTIONS connections"
printf '%-12s %-10s %s\n' server run result
for name in allow-all dplint allow-all dplint; do
  if [ "$name" = dplint ]; then addr=$dplint_addr; else addr=$allow_addr; fi
  printf '%-12s %-10s %s\n' "$name" saturation "$(load "$addr")"
  printf '%-12s %-10s %s\n' "$name" "${RATE}/s" "$(load "$addr" --rate "$RATE")"
done
printf '%-12s %-10s %s\n' allow-all memory "rss/peak MiB: $(mem "$allow_pid")"
printf '%-12s %-10s %s\n' dplint memory "rss/peak MiB: $(mem "$dplint_pid")"
