#!/usr/bin/env bash
# Tests of the Helm chart in charts/dplint: renders it with Helm v4's engine (helm-python-sdk,
# offline), asserts on the objects, lints it, runs the output through `dplint check`.
#
#   charts/test.sh [pytest args]
#
# Creates a virtualenv in charts/.venv with the pinned packages of charts/requirements-test.txt.
# Uses target/debug/dplint (DPLINT_BIN overrides), building it when absent or under CI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="$here/.venv"
requirements="$here/requirements-test.txt"

if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1; then
      echo "python3 -m venv failed; installing python3-venv"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    python3 -m venv "$venv"
  fi
fi
# Reinstall only when the pins change.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi

if [ -z "${DPLINT_BIN:-}" ]; then
  if [ "${CI:-}" = "true" ] || [ ! -x "$repo/target/debug/dplint" ]; then
    (cd "$repo" && cargo build -p dplint --locked)
  fi
  export DPLINT_BIN="$repo/target/debug/dplint"
fi

cd "$here"
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider -q dplint/tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "charts/test.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
