# Shared by scripts/*.sh: where the pinned tools live, and installing what is missing.
# Every step checks first and skips what is already there, so repeat runs are fast.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${PARTNERLENS_TOOLS:-$HOME/.cache/partnerlens/tools}"
WORKER_BUILD_VERSION="0.8.7"
SCHEMATHESIS_VERSION="4.32.5"
SCHEMATHESIS="$TOOLS/schemathesis-$SCHEMATHESIS_VERSION/bin/schemathesis"
# The real readers the e2e tests open exports with (PyPI, pinned): openpyxl for .xlsx, and
# Tableau's Hyper engine (tableauhyperapi) for what Tableau makes of the CSV export.
OPENPYXL_VERSION="3.1.5"
HYPERAPI_VERSION="0.0.26963"
READERS="$TOOLS/readers-openpyxl-$OPENPYXL_VERSION-hyper-$HYPERAPI_VERSION"
READERS_PYTHON="$READERS/bin/python"

say() { printf '\033[1mpartnerlens:\033[0m %s\n' "$*" >&2; }

# The wasm-bindgen version Cargo.lock pins: the CLI must match it exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

pl_env() {
    local wbg
    wbg="$(wasm_bindgen_version)"
    export PATH="$ROOT/node_modules/.bin:$TOOLS/worker-build-$WORKER_BUILD_VERSION/bin:$HOME/.cargo/bin:$PATH"
    export WASM_BINDGEN_BIN="$TOOLS/wasm-bindgen-$wbg/bin/wasm-bindgen"
    export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
    export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
    export WRANGLER_SEND_METRICS=false
}

cargo_install_pinned() { # crate version dir
    local crate="$1" version="$2" dir="$3" bin="$4"
    if [ -x "$dir/bin/$bin" ]; then
        return
    fi
    say "installing $crate $version into $dir (once; takes 10-15 minutes on 2 cores)"
    cargo install "$crate" --version "=$version" --root "$dir" --quiet
}

pl_setup() {
    pl_env
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    cargo_install_pinned worker-build "$WORKER_BUILD_VERSION" \
        "$TOOLS/worker-build-$WORKER_BUILD_VERSION" worker-build
    local wbg
    wbg="$(wasm_bindgen_version)"
    cargo_install_pinned wasm-bindgen-cli "$wbg" "$TOOLS/wasm-bindgen-$wbg" wasm-bindgen
    if ! cmp -s "$ROOT/package-lock.json" "$ROOT/node_modules/.partnerlens-lock" 2>/dev/null; then
        say "installing npm packages (wrangler, Node 22, binaryen, isbot and the bot corpora)"
        # `npm ci` refuses this lock: the registry here lacks workerd's macOS and Windows
        # builds, which npm leaves out of the lock. `npm install` follows the lock as it is.
        (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
        cp "$ROOT/package-lock.json" "$ROOT/node_modules/.partnerlens-lock"
    fi
}

# Debian's chromium for the browser tests (playwright-core drives it; no browser is ever
# downloaded), and a font so pages render the same everywhere.
ensure_chromium() {
    if command -v chromium >/dev/null && [ -d /usr/share/fonts/truetype/dejavu ]; then
        return
    fi
    say "installing chromium and fonts-dejavu-core (Debian packages, once)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core > /dev/null
}

# Schemathesis (PyPI), pinned, in its own virtualenv under the tools directory.
ensure_schemathesis() {
    if [ -x "$SCHEMATHESIS" ]; then
        return
    fi
    local venv="$TOOLS/schemathesis-$SCHEMATHESIS_VERSION"
    say "installing schemathesis $SCHEMATHESIS_VERSION into $venv (once)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

# The e2e tests' file readers (PyPI), pinned, in their own virtualenv.
ensure_readers() {
    if [ -x "$READERS_PYTHON" ] && "$READERS_PYTHON" -c 'import openpyxl, tableauhyperapi' 2>/dev/null; then
        return
    fi
    say "installing openpyxl $OPENPYXL_VERSION and tableauhyperapi $HYPERAPI_VERSION into $READERS (once)"
    rm -rf "$READERS"
    python3 -m venv "$READERS"
    "$READERS/bin/pip" install --quiet --disable-pip-version-check \
        "openpyxl==$OPENPYXL_VERSION" "tableauhyperapi==$HYPERAPI_VERSION"
}

# A free TCP port on 127.0.0.1.
free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until GET $1 answers, or fails after $2 seconds.
wait_for() {
    local url="$1" seconds="$2" i
    for ((i = 0; i < seconds * 4; i++)); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.25
    done
    return 1
}

# Starts `wrangler dev` on 127.0.0.1:$2 with state in $1 (migrations applied first) and
# extra `wrangler dev` arguments after; logs go to $1/wrangler.log. Sets RUNTIME_PID (a
# child of the calling shell, so it can be waited for).
start_runtime() {
    local state="$1" port="$2"
    shift 2
    mkdir -p "$state"
    # Every D1 database of wrangler.toml: the main one and the event shards.
    local database
    for database in $(sed -n 's/^database_name = "\(.*\)"$/\1/p' "$ROOT/wrangler.toml"); do
        (cd "$ROOT" && wrangler d1 migrations apply "$database" --local --persist-to "$state" \
            >> "$state/migrations.log" 2>&1) || { cat "$state/migrations.log" >&2; return 1; }
    done
    # Its own process group, so that stopping it reaches wrangler's node and workerd too.
    (cd "$ROOT" && exec setsid wrangler dev --ip 127.0.0.1 --port "$port" \
        --inspector-port "$(free_port)" --persist-to "$state" --test-scheduled \
        --show-interactive-dev-session=false "$@" > "$state/wrangler.log" 2>&1) &
    RUNTIME_PID=$!
}

# Stops a runtime started by start_runtime: its whole process group.
stop_runtime() {
    local pid="$1"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 20); do
        kill -0 -- "-$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}
