# Sourced by bench/webhook.sh and bench/soak.sh: the release binaries (unless SKIP_BUILD), a
# temporary directory, and the clean-up of every child listed in `pids` on exit or signal.
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --quiet -p dplint -p dplint-bench-allow-all
fi
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pids=()
cleanup() {
  # Children only, by pid (the load generator, servers, samplers), then the temporary files.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# A signal ends the script through its EXIT trap, so the servers go too.
trap 'exit 143' TERM INT
