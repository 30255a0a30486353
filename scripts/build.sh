#!/usr/bin/env bash
# Builds the dashboard and the portal into public/ (a second or so), and the worker
# (release, wasm-opt'ed) into build/ unless src/ and the manifests are unchanged since the
# last build. wrangler runs this as its [build] command.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
pl_env
cd "$ROOT"
node scripts/web.mjs
inputs="$(find src Cargo.toml Cargo.lock -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [ -f build/worker/shim.mjs ] && [ "$(cat build/.inputs 2>/dev/null)" = "$inputs" ]; then
    say "worker build is up to date"
    exit 0
fi
say "building the worker (release)"
worker-build --release
echo "$inputs" > build/.inputs
