#!/usr/bin/env bash
# Builds the dashboard and the portal into public/ (a second or so), and the worker
# (release, wasm-opt'ed) unless src/ and the manifests are unchanged since the last build:
#
#   bash scripts/build.sh        the app Worker into build/ (wrangler.toml's [build])
#   bash scripts/build.sh edge   the links Worker into build-edge/: the same crate with
#                                `--features edge`, only the redirect and the pixel
#                                (wrangler.links.toml's [build])
set -euo pipefail
source "$(dirname "$0")/lib.sh"
pl_env
cd "$ROOT"
target="${1:-app}"
case "$target" in
    app) out=build features=() ;;
    edge) out=build-edge features=(-- --features edge) ;;
    *) say "unknown build '$target' (app or edge)"; exit 2 ;;
esac
if [ "$target" = app ]; then node scripts/web.mjs; fi
inputs="$(find src Cargo.toml Cargo.lock -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [ -f "$out/worker/shim.mjs" ] && [ "$(cat "$out/.inputs" 2>/dev/null)" = "$inputs" ]; then
    say "$target worker build is up to date"
else
    say "building the $target worker (release)"
    worker-build --release --out-dir "$out" "${features[@]}"
    echo "$inputs" > "$out/.inputs"
fi
# The entry module wrangler's `main` names: worker-build's handlers as a plain object
# (src/entry.mjs says why).
cp src/entry.mjs "$out/worker/entry.mjs"
