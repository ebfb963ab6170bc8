#!/usr/bin/env bash
# Runs the `check` fuzz target for DURATION_SECONDS (default 60) on stable Rust.
#
#   fuzz/run.sh 600
#
# Installs nothing: it needs cargo-fuzz (`cargo install cargo-fuzz --locked`). cargo-fuzz passes
# nightly-only flags (-Zsanitizer=address) to rustc, which stable accepts with RUSTC_BOOTSTRAP=1.
# The corpus (fuzz/corpus/check) and crashes (fuzz/artifacts/check) are not committed; the corpus
# is seeded at each run from fuzz/seeds/, every example under examples/, and the real-world files
# of ../shared/corpus when that folder is there.
set -euo pipefail

duration="${1:-60}"
case "$duration" in
  ''|*[!0-9]*) echo "usage: $0 DURATION_SECONDS" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed; install it with: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

corpus="$here/corpus/check"
artifacts="$here/artifacts/check"
mkdir -p "$corpus" "$artifacts"

# Seeds are named by content, so running again adds nothing new. Inputs larger than -max_len
# would be truncated by libFuzzer anyway; skip them.
max_len=262144
seed() {
  local file
  for file in "$@"; do
    [ -f "$file" ] || continue
    [ "$(stat -c %s "$file")" -le "$max_len" ] || continue
    cp "$file" "$corpus/seed-$(sha1sum <"$file" | cut -c1-16)"
  done
}
seed "$here"/seeds/*
for dir in "$root/examples" "$root/../shared/corpus/raw"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' file; do seed "$file"; done < <(
    find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 | sort -z
  )
done
echo "fuzz: corpus $corpus has $(find "$corpus" -type f | wc -l) inputs; running for ${duration}s"

export RUSTC_BOOTSTRAP=1
cd "$root"
status=0
cargo fuzz run --fuzz-dir "$here" check "$corpus" -- \
  -max_total_time="$duration" \
  -rss_limit_mb=2048 \
  -max_len="$max_len" \
  -timeout=60 \
  -dict="$here/yaml.dict" \
  -print_final_stats=1 || status=$?

if [ "$status" -ne 0 ]; then
  echo "fuzz: the target failed (status $status); inputs that reproduce it:" >&2
  ls -la "$artifacts" >&2 || true
  echo "fuzz: reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz check fuzz/artifacts/check/<file>" >&2
  echo "fuzz: minimise with:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin --fuzz-dir fuzz check fuzz/artifacts/check/<file>" >&2
fi
exit "$status"
