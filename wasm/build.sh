#!/usr/bin/env bash
# Builds the dplint-wasm npm package into wasm/pkg/ and the browser checker's assets into
# wasm/web/dplint/: cargo (wasm32, profile wasm-release) → wasm-bindgen (--target web, the exact
# version pinned in Cargo.lock) → wasm-opt (npm binaryen) → JS wrappers, types, bin.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"

log() { echo "wasm/build.sh: $*" >&2; }

bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")"
if [ -z "$bindgen_version" ]; then
  log "cannot find wasm-bindgen in Cargo.lock"
  exit 1
fi
if ! installed="$(wasm-bindgen --version 2>/dev/null)" || [ "${installed##* }" != "$bindgen_version" ]; then
  log "wasm-bindgen $bindgen_version is needed (found: ${installed:-none}); install it with"
  log "  cargo install wasm-bindgen-cli --version $bindgen_version"
  exit 1
fi
if [ ! -x node_modules/.bin/wasm-opt ]; then
  log "installing the npm tooling (npm ci)"
  npm ci --no-audit --no-fund
fi

target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
(cd "$root" && cargo build -p dplint-wasm --target wasm32-unknown-unknown --profile wasm-release --locked)
module="$target_dir/wasm32-unknown-unknown/wasm-release/dplint_wasm.wasm"

rm -rf pkg
mkdir -p pkg/bin
wasm-bindgen --target web --out-dir pkg --out-name dplint_wasm "$module"
# Rust's wasm32 target enables these features by default; wasm-opt must know them.
# `--flatten --rereloop` before `-Oz -Oz` rebuilds the control flow of rustc's output and saves
# ~0.7 % gzipped over a single `-Oz` (BENCHMARKS.md, WASM section); it costs ~20 s of build time.
node_modules/.bin/wasm-opt --flatten --rereloop -Oz -Oz \
  --enable-bulk-memory --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers \
  pkg/dplint_wasm_bg.wasm -o pkg/dplint_wasm_bg.wasm.opt
mv pkg/dplint_wasm_bg.wasm.opt pkg/dplint_wasm_bg.wasm
rm -f pkg/dplint_wasm_bg.wasm.d.ts

version="$(cd "$root" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).packages.find(p=>p.name==="dplint-wasm").version))')"
cp js/api.js js/node.js js/web.js js/index.d.ts pkg/
cp js/bin/dplint-wasm.js pkg/bin/
chmod +x pkg/bin/dplint-wasm.js
cp README.md pkg/README.md
sed "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" js/package.json > pkg/package.json

# The browser checker loads the web entry point from web/dplint/.
rm -rf web/dplint
mkdir -p web/dplint
cp pkg/dplint_wasm.js pkg/dplint_wasm_bg.wasm pkg/api.js pkg/web.js web/dplint/

raw=$(stat -c %s pkg/dplint_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/dplint_wasm_bg.wasm | wc -c)
log "built pkg/ (dplint-wasm $version) and web/dplint/: dplint_wasm_bg.wasm $raw bytes, $gz gzipped"
