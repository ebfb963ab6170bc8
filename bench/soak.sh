#!/usr/bin/env bash
# Soak and fault scenarios for `dplint serve`, over loopback only (every port 127.0.0.1:0).
# Each scenario prints PASS or FAIL with its numbers; the script exits 1 if any failed.
#
#   bench/soak.sh                      # full: about 13 minutes at RATE=2000
#   SOAK_QUICK=1 bench/soak.sh         # short: 10 s of requests in a, 10 s of rotation, a 3 s
#                                      # outage, 200 slowloris, 1,000 streams; under 2 minutes
#   SCENARIOS="a c" REQUESTS=100000 RATE=500 bench/soak.sh
#   SKIP_BUILD=1 ...                   # use the binaries in ${CARGO_TARGET_DIR:-target}/release
#
# a. fixed rate, REQUESTS distinct objects (as kube-apiserver sends updates): no error, and RSS
#    (/proc/PID/status every second) flat: after WARMUP_SECONDS, the mean of the last 10 % of
#    samples within 10 % of the mean of the first 10 %.
# b. certificate rotation under load: a new certificate from the same CA every ROTATE_EVERY
#    seconds for ROTATE_SECONDS (swapped in as Kubernetes swaps a Secret volume: a new directory
#    and an atomic rename of the `..data` symlink), dplint polling every second; the load opens
#    a new connection every RECONNECT_EVERY requests, so handshakes meet every certificate. No
#    failed request or handshake, and more than one certificate seen by the client.
# c. cluster cache faults: dplint with --kubeconfig on bench/fake_kube_api.py; under load, every
#    watch is ended with 410 Gone (the cache must list again), then the API goes away for
#    OUTAGE_SECONDS and comes back on the same port. /readyz is polled throughout and what it
#    did is reported; every admission request must still be answered 200.
# d. SLOWLORIS TLS connections trickling HTTP/1.1 headers (a byte every 500 ms) and IDLE idle TLS
#    connections, while a normal client runs at RATE: no error for it, dplint RSS < RSS_BOUND_MIB.
# e. STREAMS concurrent requests on one HTTP/2 connection while a normal client runs at RATE: all
#    answered 200 (a REFUSED_STREAM is retried and counted), no error for the other client, RSS <
#    RSS_BOUND_MIB. The server's SETTINGS_MAX_CONCURRENT_STREAMS is reported.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${SOAK_QUICK:-0}" = 1 ]; then
  d_requests=$((${RATE:-2000} * 10)) d_rotate=10 d_outage=3 d_cluster=20 d_slow=200 d_idle=500 d_hold=10 d_streams=1000 d_burst=10
else
  d_requests=1000000 d_rotate=60 d_outage=10 d_cluster=60 d_slow=500 d_idle=1000 d_hold=60 d_streams=10000 d_burst=30
fi
RATE="${RATE:-2000}"
REQUESTS="${REQUESTS:-$d_requests}"
WARMUP_SECONDS="${WARMUP_SECONDS:-5}"
ROTATE_SECONDS="${ROTATE_SECONDS:-$d_rotate}"
ROTATE_EVERY="${ROTATE_EVERY:-2}"
# About one new connection per second for each of the load's 4 connections.
RECONNECT_EVERY="${RECONNECT_EVERY:-$((RATE / 4 > 0 ? RATE / 4 : 1))}"
OUTAGE_SECONDS="${OUTAGE_SECONDS:-$d_outage}"
CLUSTER_SECONDS="${CLUSTER_SECONDS:-$d_cluster}"
SLOWLORIS="${SLOWLORIS:-$d_slow}"
IDLE="${IDLE:-$d_idle}"
HOLD_SECONDS="${HOLD_SECONDS:-$d_hold}"
STREAMS="${STREAMS:-$d_streams}"
BURST_LOAD_SECONDS="${BURST_LOAD_SECONDS:-$d_burst}"
RSS_BOUND_MIB="${RSS_BOUND_MIB:-64}"
SCENARIOS="${SCENARIOS:-a b c d e}"

. bench/webhook-common.sh

# The captured review when it is there (bench/webhook.sh requires it); else, so that the soak
# runs on a machine without ../shared (CI), a made-up review of the same kind: an update of the
# kube-proxy ConfigMap from iptables to nftables, which dplint checks fully too.
fixture=../shared/fixtures/admission/configmap-kube-proxy-update-apply-mode-nftables.json
if [ -f "$fixture" ]; then
  python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$fixture" > "$work/body.json"
else
  echo "note: no $fixture; using a made-up kube-proxy ConfigMap update"
  python3 - > "$work/body.json" <<'EOF'
import json
def config_map(mode, rv):
    conf = ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
            f"mode: {mode}\nclusterCIDR: 10.244.0.0/16\nnodePortAddresses: [primary]\n")
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "resourceVersion": rv,
                         "uid": "3901a42a-0000-4000-8000-000000000001", "labels": {"app": "kube-proxy"},
                         "annotations": {"note": "bench/soak.sh"}},
            "data": {"config.conf": conf}}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "0f6ad5a4-0000-4000-8000-000000000001",
    "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
    "resource": {"group": "", "version": "v1", "resource": "configmaps"},
    "requestKind": {"group": "", "version": "v1", "kind": "ConfigMap"},
    "requestResource": {"group": "", "version": "v1", "resource": "configmaps"},
    "name": "kube-proxy", "namespace": "kube-system", "operation": "UPDATE",
    "userInfo": {"username": "kubernetes-admin", "groups": ["kubeadm:cluster-admins", "system:authenticated"]},
    "object": config_map("nftables", "234"), "oldObject": config_map("iptables", "233"),
    "dryRun": False, "options": {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"}}}
print(json.dumps(review, separators=(",", ":")), end="")
EOF
fi

# Slowloris and idle connections take a descriptor each on both sides; raise the soft limit up
# to the hard one, or scale the counts down to fit.
want=$((SLOWLORIS + IDLE + 512))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  have=$(ulimit -n)
  if [ "$have" != unlimited ] && [ "$have" -lt "$want" ]; then
    scale=$(( (have - 512) * 100 / (SLOWLORIS + IDLE) ))
    SLOWLORIS=$((SLOWLORIS * scale / 100)); IDLE=$((IDLE * scale / 100))
    echo "note: ulimit -n is $have; scaled to $SLOWLORIS slowloris and $IDLE idle connections"
  fi
fi

# Certificates as a Kubernetes Secret volume lays them out: tls.crt -> ..data/tls.crt,
# ..data -> the current generation's directory, swapped by an atomic rename.
"$bin/allow-all" cert "$work/ca"
mkdir -p "$work/tls"
generation=0
publish_cert() { # DIR_NAME: make $work/tls/DIR_NAME current
  ln -sfn "$1" "$work/tls/..data_tmp"
  mv -Tf "$work/tls/..data_tmp" "$work/tls/..data"
}
mkdir -p "$work/tls/gen-0"
cp "$work/ca/tls.crt" "$work/ca/tls.key" "$work/tls/gen-0/"
publish_cert gen-0
ln -s ..data/tls.crt "$work/tls/tls.crt"
ln -s ..data/tls.key "$work/tls/tls.key"
rotate_cert() {
  generation=$((generation + 1))
  "$bin/allow-all" cert "$work/tls/gen-$generation" --issuer "$work/ca"
  publish_cert "gen-$generation"
  rm -rf "$work/tls/gen-$((generation - 3))"
}

failures=0
verdict() { # NAME OK(0/1) DETAILS
  if [ "$2" = 1 ]; then echo "PASS $1: $3"; else echo "FAIL $1: $3"; failures=$((failures + 1)); fi
}
now() { date +%s.%N; }

wait_for_field() { # FILE FIELD -> the address once logged
  for _ in $(seq 1 300); do
    addr=$(grep -o "\"$2\":\"[^\"]*\"" "$1" 2>/dev/null | head -1 | cut -d'"' -f4 || true)
    if [ -n "$addr" ]; then echo "$addr"; return 0; fi
    sleep 0.1
  done
  echo "no $2 in $1: $(cat "$1")" >&2
  return 1
}

# Starts dplint serve (log $work/NAME.log); sets dplint_pid, admission, health.
start_dplint() { # NAME EXTRA...
  local name=$1
  shift
  RUST_LOG=warn,dplint_webhook::server=info "$bin/dplint" serve \
    --tls-cert-file "$work/tls/tls.crt" --tls-private-key-file "$work/tls/tls.key" \
    --listen 127.0.0.1:0 --health-listen 127.0.0.1:0 --reload-interval 1 "$@" 2> "$work/$name.log" &
  dplint_pid=$!
  pids+=("$dplint_pid")
  admission=$(wait_for_field "$work/$name.log" admission)
  health=$(wait_for_field "$work/$name.log" health)
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

load() { # ADDR EXTRA... -> one JSON line
  "$bin/allow-all" load --addr "$1" --ca "$work/ca/ca.crt" --body "$work/body.json" --warmup 0 "${@:2}"
}
kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
sample_rss() { # PID FILE: VmRSS in KiB every second until the process ends
  while [ -e "/proc/$1/status" ]; do kib "$1" VmRSS >> "$2" 2>/dev/null || true; sleep 1; done
}
metric() { # HEALTH REGEX -> sum of the matching samples (0 when the server does not answer)
  { curl -sf "http://$1/metrics" || true; } | awk -v re="$2" '$0 ~ re && !/^#/ {s += $NF} END {print s + 0}'
}
field() { jq -r "$2" "$1"; }
hit_rate() { # HITS_BEFORE MISSES_BEFORE HEALTH
  local h m
  h=$(metric "$3" 'decision_cache_lookups_total.*result="hit"')
  m=$(metric "$3" 'decision_cache_lookups_total.*result="miss"')
  awk -v h=$((h - $1)) -v m=$((m - $2)) 'BEGIN {printf "%.1f %%", (h + m) ? 100 * h / (h + m) : 0}'
}
load_ok() { # JSON -> 1 when no error of any kind
  jq -r 'if .errors == 0 and .connect_errors == 0 then 1 else 0 end' "$1" 2>/dev/null || echo 0
}
load_summary() { # JSON
  jq -r '"\(.requests) requests at \(.rps | floor)/s, errors \(.errors) (non-200 \(.non_200), transport \(.transport_errors), timeouts \(.timeouts), bad uid \(.bad_uid)), connect errors \(.connect_errors), p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms" + (if .errors > 0 then ", errors by message: \(.error_messages | tojson)" else "" end)' "$1" 2>/dev/null || echo "no result: $(cat "$1")"
}

echo "soak: $(nproc) cores, ulimit -n $(ulimit -n), RATE=$RATE, scenarios: $SCENARIOS$([ "${SOAK_QUICK:-0}" = 1 ] && echo ' (quick)')"

scenario_a() {
  start_dplint a --no-cluster-state
  local h0 m0
  h0=$(metric "$health" 'decision_cache_lookups_total.*result="hit"')
  m0=$(metric "$health" 'decision_cache_lookups_total.*result="miss"')
  sample_rss "$dplint_pid" "$work/a.rss" &
  pids+=($!); local sampler=$!
  echo "a: $REQUESTS distinct requests at $RATE/s (about $((REQUESTS / RATE)) s)"
  load "$admission" --distinct --rate "$RATE" --requests "$REQUESTS" > "$work/a.json" || true
  local rates
  rates=$(hit_rate "$h0" "$m0" "$health")
  kill "$sampler" 2>/dev/null || true
  # Flatness after the warm-up: first and last tenth of the samples (at least one each).
  local flat
  flat=$(python3 - "$work/a.rss" "$WARMUP_SECONDS" <<'EOF'
import sys
samples = [int(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]):]
if len(samples) < 2:
    print(0, "too few RSS samples:", len(samples)); sys.exit()
k = max(1, len(samples) // 10)
first, last = sum(samples[:k]) / k, sum(samples[-k:]) / k
ok = abs(last - first) <= 0.10 * first
print(int(ok), f"RSS {len(samples)} samples after {sys.argv[2]} s: first 10 % {first / 1024:.1f} MiB, last 10 % {last / 1024:.1f} MiB ({100 * (last - first) / first:+.1f} %), max {max(samples) / 1024:.1f} MiB")
EOF
)
  local ok=0
  [ "$(load_ok "$work/a.json")" = 1 ] && [ "${flat%% *}" = 1 ] && ok=1
  verdict "a fixed rate, distinct objects" "$ok" "$(load_summary "$work/a.json"); ${flat#* }; VmHWM $(mib "$(kib "$dplint_pid" VmHWM)") MiB; decision cache hits $rates"
  stop "$dplint_pid"
}

scenario_b() {
  start_dplint b --no-cluster-state
  local before
  before=$(metric "$health" 'reloads_total.*file="certificate".*result="success"')
  echo "b: rotating the certificate every ${ROTATE_EVERY}s for ${ROTATE_SECONDS}s, reconnecting every $RECONNECT_EVERY requests"
  load "$admission" --distinct --rate "$RATE" --duration "$ROTATE_SECONDS" --reconnect-every "$RECONNECT_EVERY" > "$work/b.json" &
  local load_pid=$! rotations=0
  pids+=("$load_pid")
  while sleep "$ROTATE_EVERY" && kill -0 "$load_pid" 2>/dev/null; do
    rotate_cert
    rotations=$((rotations + 1))
  done
  wait "$load_pid" || true
  local reloads failed
  reloads=$(( $(metric "$health" 'reloads_total.*file="certificate".*result="success"') - before ))
  failed=$(metric "$health" 'reloads_total.*file="certificate".*result="failure"')
  local ok=0 seen
  seen=$(field "$work/b.json" .certs_seen)
  [ "$(load_ok "$work/b.json")" = 1 ] && [ "$seen" -ge 2 ] && ok=1
  verdict "b certificate rotation" "$ok" "$(load_summary "$work/b.json"); $rotations rotations, $reloads reloads by dplint ($failed failed polls), $(field "$work/b.json" .reconnects) reconnections, $seen distinct certificates seen in handshakes"
  stop "$dplint_pid"
}

scenario_c() {
  python3 bench/fake_kube_api.py > "$work/api.json" &
  local api_pid=$!
  pids+=("$api_pid")
  local api control
  api=$(wait_for_field "$work/api.json" api)
  control=$(wait_for_field "$work/api.json" control)
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://%s\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\nusers:\n- name: fake\n  user: {}\n' "$api" > "$work/kubeconfig"
  start_dplint c --kubeconfig "$work/kubeconfig"
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$health/readyz")" = 200 ] && break
    sleep 0.1
  done
  # /readyz every 100 ms: "time status".
  ( while true; do echo "$(now) $(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://$health/readyz")"; sleep 0.1; done ) > "$work/c.ready" &
  pids+=($!); local poller=$!
  echo "c: ${CLUSTER_SECONDS}s of load at $RATE/s; a 410 on every watch, then the API away for ${OUTAGE_SECONDS}s"
  load "$admission" --distinct --rate "$RATE" --duration "$CLUSTER_SECONDS" > "$work/c.json" &
  local load_pid=$!
  pids+=("$load_pid")
  sleep 2
  curl -sf "http://$control/stats" > "$work/c.stats0"
  local t_expire expired
  t_expire=$(now)
  expired=$(curl -sf -X POST "http://$control/expire" | jq .expired_watches)
  # The watcher lists again after its backoff; give it up to 10 s.
  for _ in $(seq 1 100); do
    curl -sf "http://$control/stats" > "$work/c.stats1"
    [ "$(jq -n --slurpfile a "$work/c.stats0" --slurpfile b "$work/c.stats1" '[$a[0].lists | keys[] as $k | select($b[0].lists[$k] > $a[0].lists[$k])] | length')" -ge 6 ] && break
    sleep 0.1
  done
  local relisted t_relisted
  t_relisted=$(now)
  relisted=$(jq -n --slurpfile a "$work/c.stats0" --slurpfile b "$work/c.stats1" '[$a[0].lists | keys[] as $k | select($b[0].lists[$k] > $a[0].lists[$k])] | length')
  sleep 1
  local t_down t_up t_back="" watches
  t_down=$(now)
  curl -sf -X POST "http://$control/outage?seconds=$OUTAGE_SECONDS" > /dev/null
  sleep "$OUTAGE_SECONDS"
  # Back when the API listens again, recovered when all six watches are open again.
  for _ in $(seq 1 100); do
    [ "$(curl -sf "http://$control/stats" | jq .up)" = true ] && break
    sleep 0.1
  done
  t_up=$(now)
  while kill -0 "$load_pid" 2>/dev/null; do
    watches=$(curl -sf "http://$control/stats" | jq .open_watches)
    if [ "$watches" -ge 6 ]; then t_back=$(now); break; fi
    sleep 0.2
  done
  wait "$load_pid" || true
  kill "$poller" 2>/dev/null || true
  curl -sf "http://$control/stats" > "$work/c.stats2"
  local report
  report=$(python3 - "$work/c.ready" "$t_expire" "$t_down" "$t_up" "${t_back:-0}" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 2]
rows = [(float(t), s) for t, s in rows]
t_expire, t_down, t_up, t_back = map(float, sys.argv[2:6])
def states(a, b):
    got = [s for t, s in rows if a <= t < b]
    other = {c: got.count(c) for c in sorted(set(got)) if c != "200"}
    # 503 is "not ready"; 000 is no answer within curl's 1 s (a starved health port).
    return f"{sum(s == '200' for s in got)}/{len(got)} ready" + (f" (others: {other})" if other else "")
before = [s for t, s in rows if t < t_expire]
end = rows[-1][1] if rows else "none"
ready_before = bool(before) and all(s == "200" for s in before)
print(int(ready_before and end == "200"),
      f"/readyz before the faults {states(0, t_expire)}, from the 410 to the outage {states(t_expire, t_down)}, "
      f"during the outage {states(t_down, t_up)}, from the API's return to the watches' {states(t_up, t_back or 1e12)}, "
      f"at the end {end}")
EOF
)
  local ok=0
  [ "$(load_ok "$work/c.json")" = 1 ] && [ "$relisted" -ge 6 ] && [ -n "$t_back" ] && [ "${report%% *}" = 1 ] && ok=1
  local recovery="not within the run"
  [ -n "$t_back" ] && recovery=$(awk -v a="$t_up" -v b="$t_back" 'BEGIN {printf "%.1f s", b - a}')
  verdict "c cluster cache faults" "$ok" "$(load_summary "$work/c.json"); 410 sent to $expired watches, $relisted of 6 resources listed again ($(awk -v a="$t_expire" -v b="$t_relisted" 'BEGIN {printf "%.1f s", b - a}')); watches back $recovery after the API returned; ${report#* }; lists/watches received: $(jq -c '[(.lists | add), (.watches | add)]' "$work/c.stats2")"
  stop "$dplint_pid"
  stop "$api_pid"
}

scenario_d() {
  start_dplint d --no-cluster-state
  local idle_rss
  idle_rss=$(kib "$dplint_pid" VmRSS)
  echo "d: $SLOWLORIS slowloris + $IDLE idle TLS connections, then ${HOLD_SECONDS}s of load at $RATE/s"
  "$bin/allow-all" hold --addr "$admission" --ca "$work/ca/ca.crt" --slowloris "$SLOWLORIS" --idle "$IDLE" \
    --interval-ms 500 --duration $((HOLD_SECONDS + 120)) --until-file "$work/d.done" > "$work/d.hold" 2> "$work/d.hold.err" &
  local hold_pid=$!
  pids+=("$hold_pid")
  for _ in $(seq 1 600); do grep -q established "$work/d.hold.err" && break; sleep 0.1; done
  local held_rss fds
  held_rss=$(kib "$dplint_pid" VmRSS)
  fds=$(find "/proc/$dplint_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  sample_rss "$dplint_pid" "$work/d.rss" &
  pids+=($!); local sampler=$!
  load "$admission" --distinct --rate "$RATE" --duration "$HOLD_SECONDS" > "$work/d.json" || true
  touch "$work/d.done"
  wait "$hold_pid" || true
  kill "$sampler" 2>/dev/null || true
  local peak
  peak=$(kib "$dplint_pid" VmHWM)
  local ok=0
  [ "$(load_ok "$work/d.json")" = 1 ] && [ "$peak" -lt $((RSS_BOUND_MIB * 1024)) ] && ok=1
  verdict "d slowloris and idle connections" "$ok" "$(load_summary "$work/d.json"); $(grep established "$work/d.hold.err"); dplint $fds fds; RSS $(mib "$idle_rss") MiB before, $(mib "$held_rss") MiB with the connections, peak (VmHWM) $(mib "$peak") MiB (bound $RSS_BOUND_MIB MiB); held: $(jq -c . "$work/d.hold")"
  stop "$dplint_pid"
}

scenario_e() {
  start_dplint e --no-cluster-state
  local seconds=$BURST_LOAD_SECONDS
  echo "e: $STREAMS concurrent streams on one HTTP/2 connection, beside ${seconds}s of load at $RATE/s"
  load "$admission" --distinct --rate "$RATE" --duration "$seconds" > "$work/e.json" &
  local load_pid=$!
  pids+=("$load_pid")
  # The server's streams in progress, from its gauge, while the burst runs.
  ( while true; do metric "$health" '^dplint_webhook_in_flight_requests'; sleep 0.05; done ) > "$work/e.inflight" &
  pids+=($!); local poller=$!
  sleep 2
  "$bin/allow-all" streams --addr "$admission" --ca "$work/ca/ca.crt" --body "$work/body.json" --streams "$STREAMS" --distinct > "$work/e.streams" || true
  wait "$load_pid" || true
  kill "$poller" 2>/dev/null || true
  local peak max_in_flight
  peak=$(kib "$dplint_pid" VmHWM)
  max_in_flight=$(sort -n "$work/e.inflight" | tail -1)
  local ok=0
  [ "$(load_ok "$work/e.json")" = 1 ] && [ "$(jq -r "if .ok == $STREAMS then 1 else 0 end" "$work/e.streams")" = 1 ] \
    && [ "$peak" -lt $((RSS_BOUND_MIB * 1024)) ] && ok=1
  verdict "e $STREAMS streams on one connection" "$ok" "$(jq -r '"\(.ok)/\(.streams) answered 200 (non-200 \(.non_200), errors \(.errors), REFUSED_STREAM retried \(.refused_retried)) in \(.seconds * 10 | floor / 10) s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms; server SETTINGS_MAX_CONCURRENT_STREAMS \(.server_max_concurrent_streams)"' "$work/e.streams"); most requests in flight in dplint $max_in_flight; other client: $(load_summary "$work/e.json"); peak RSS (VmHWM) $(mib "$peak") MiB (bound $RSS_BOUND_MIB MiB)"
  stop "$dplint_pid"
}

for s in $SCENARIOS; do
  "scenario_$s"
done
echo "soak: $failures failed"
[ "$failures" = 0 ]
