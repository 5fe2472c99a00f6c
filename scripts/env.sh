# Sourced by run.sh and test.sh: the local stage's environment, each value
# overridable from the caller's environment.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
eval "$("$ROOT/scripts/standins.sh" env)"
export STAGE="${STAGE:-local}"
export FIREBASE_PROJECT_ID="${FIREBASE_PROJECT_ID:-halobestie-local}"
export DEV_CERTS_PORT="${DEV_CERTS_PORT:-3002}"
export FIREBASE_CERTS_URL="${FIREBASE_CERTS_URL:-http://127.0.0.1:$DEV_CERTS_PORT/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com}"
export SUPER_ADMIN_EMAIL="${SUPER_ADMIN_EMAIL:-admin@halobestie.com}"
export PUBLIC_PORT="${PUBLIC_PORT:-3000}"
export INTERNAL_PORT="${INTERNAL_PORT:-3001}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Builds halo-dev and prints its path. Its dependencies resolve to the same features as a
# function's own build (bench/Cargo.toml says how), so this and `cargo lambda watch` share one
# build of the AWS SDK. The tests' dev-dependencies turn on more features (jsonschema's
# serde_json and regex ones), so after `cargo test --workspace` test.sh asks for the halo-dev
# that run built (`halo_dev_bin --workspace --tests`) instead of building the SDK a second time.
halo_dev_bin() {
    local scope=(-p infra)
    (($#)) && scope=("$@")
    cargo build --locked "${scope[@]}" --bin halo-dev >&2
    local target="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ "$target" == /* ]] || target="$ROOT/$target"
    echo "$target/debug/halo-dev"
}

# Starts `halo-dev serve` (path $1) in its own session, logging to $2, and waits until both
# surfaces answer. Refuses a taken port (naming $3, the variables that move them), and shows
# the log's tail if the server does not come up. stop_dev_server ends it and its children.
start_dev_server() {
    local dev="$1" log="$2" hint="$3" port
    for port in "$PUBLIC_PORT" "$INTERNAL_PORT" "$DEV_CERTS_PORT"; do
        if port_taken "$port"; then
            echo "port $port is taken; $hint" >&2
            return 1
        fi
    done
    setsid "$dev" serve </dev/null >"$log" 2>&1 &
    DEV_SERVER_PID=$!
    local deadline=$((SECONDS + 60))
    until python3 -c '
import sys, urllib.request
for url in sys.argv[1:]:
    try:
        urllib.request.urlopen(url, timeout=2).read()
    except Exception:
        sys.exit(1)
' "http://127.0.0.1:$PUBLIC_PORT/openapi.json" "http://127.0.0.1:$INTERNAL_PORT/openapi.json"; do
        if ! kill -0 "$DEV_SERVER_PID" 2>/dev/null || ((SECONDS >= deadline)); then
            echo "halo-dev serve did not come up; last lines of $log:" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
}

# A script's own stage, sharing nothing with another run: starts the stand-ins unless they
# run (arguments after the third go to `standins.sh start`), names the tables and the anonymity
# parameter by $1 and this process, and starts `halo-dev serve` (HALO_DEV, or this checkout's
# build, in DEV) on the ports set before sourcing this file, as start_dev_server does with $2
# and $3.
start_private_stage() {
    local name="$1" log="$2" hint="$3"
    shift 3
    export STAGE=local
    export TABLE_PREFIX="halobestie-$name-$$"
    export ANONYMITY_PARAMETER="/halobestie/$name-$$/anonymity_enabled"
    export RUST_LOG="${RUST_LOG:-warn}"
    "$ROOT/scripts/standins.sh" start "$@" >/dev/null
    DEV="${HALO_DEV:-$(halo_dev_bin)}"
    start_dev_server "$DEV" "$log" "$hint"
}

# Ends a process started with setsid, and its children (the pid is their process group):
# TERM, then KILL after at most $2 seconds. Nothing when $1 is empty or not running.
stop_session() {
    local pid="$1" tries=$(($2 * 10))
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
}

stop_dev_server() {
    stop_session "${DEV_SERVER_PID:-}" 2
}
