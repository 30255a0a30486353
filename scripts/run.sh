#!/usr/bin/env bash
# Installs what is missing, builds, migrates the local D1 database, starts partnerlens on
# http://127.0.0.1:${PORT:-8787} with local D1, KV and Queues, loads the demo data set,
# and prints the admin key and a working sample link. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
pl_setup
cd "$ROOT"
bash scripts/build.sh
PORT="${PORT:-8787}"
STATE="$ROOT/.state/dev"
random_key() { node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))'; }
touch .dev.vars
chmod 600 .dev.vars
if ! grep -q '^ADMIN_API_KEY=' .dev.vars; then
    printf 'ADMIN_API_KEY=pl_admin_%s\n' "$(random_key)" >> .dev.vars
    say "wrote a new local admin key to .dev.vars"
fi
if ! grep -q '^POSTBACK_SECRET_KEY=' .dev.vars; then
    printf 'POSTBACK_SECRET_KEY=%s\n' "$(random_key)" >> .dev.vars
    say "wrote a new local postback secret key to .dev.vars"
fi
ADMIN_API_KEY="$(sed -n 's/^ADMIN_API_KEY=//p' .dev.vars)"
start_runtime "$STATE" "$PORT"
pid="$RUNTIME_PID"
trap 'stop_runtime "$pid"' EXIT INT TERM
if ! wait_for "http://127.0.0.1:$PORT/healthz" 120; then
    cat "$STATE/wrangler.log" >&2
    exit 1
fi
BASE_URL="http://127.0.0.1:$PORT" ADMIN_API_KEY="$ADMIN_API_KEY" node scripts/demo.mjs
say "logs: $STATE/wrangler.log; press Ctrl-C to stop"
wait "$pid"
