#!/usr/bin/env bash
# Real clients against the local API: the Firebase Auth Emulator issues the tokens, the
# Firebase JS SDK drives the app flows, and headless Chromium loads a control-center page.
# Both call the API through the typed client (clients/lib/api.mjs: openapi-fetch with the
# types openapi-typescript makes of openapi/*.json, committed as clients/api/*.d.ts).
#
#   scripts/clients.sh            install if needed, start everything, run the flows and the type
#                                 checks (clients/checks: stale types, tsc --noEmit, a renamed
#                                 spec field failing tsc), stop it all
#   scripts/clients.sh install    only install (npm packages into .local/clients, Chromium via apt)
#   scripts/clients.sh types      rewrite clients/api/*.d.ts after a spec changed (halo-dev gen)
#   scripts/clients.sh typecheck  only the type checks (no servers)
#
# Installs (idempotent, instant once installed):
#   .local/clients/node_modules   npm ci of clients/package-lock.json: firebase 12.19.0 (the JS
#                                 SDK; 13.x needs a newer Node than 20), firebase-tools 15.34.2
#                                 (the emulator), playwright-core (drives Chromium; no browser
#                                 download), openapi-fetch (the typed client), openapi-typescript
#                                 and typescript 5.9 (its peer range; 7.x is the native port).
#                                 Install scripts are skipped: none is needed here.
#   chromium                      Debian's package, with apt-get, when no Chromium is found
# Starts, on its own ports, and stops at the end (passed, failed or interrupted): the
# local AWS stand-ins (unless already running), the auth emulator (project
# FIREBASE_PROJECT_ID, offline), and `halo-dev serve` with FIREBASE_AUTH_EMULATOR_HOST set
# (its own table prefix, so runs never share data). The flows are clients/flows/*.test.mjs,
# run by `node --test`; each prints what it did.
#
# Environment: CLIENTS_PUBLIC_PORT (3110), CLIENTS_INTERNAL_PORT (3111), CLIENTS_CERTS_PORT
#   (3112), CLIENTS_AUTH_PORT (9099, the emulator), CLIENTS_HUB_PORT (9097) and
#   CLIENTS_LOGGING_PORT (9098) (the emulator's own), CLIENTS_PAGE_PORT (5173, an allowed
#   origin) and CLIENTS_OTHER_PAGE_PORT (5174, not allowed), CHROMIUM (a Chromium binary),
#   CLIENTS_TIMEOUT (seconds for all flows, default 240), HALO_DEV (a halo-dev binary to serve
#   instead of building this checkout's). Extra arguments go to `node --test`
#   (e.g. --test-name-pattern=mitra).
# Exit status: non-zero when a flow fails or something does not come up.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SRC="$ROOT/clients"
PKG="$ROOT/.local/clients"
OUT="$ROOT/.local/clients-run"
STAMP="$PKG/.installed-$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -c1-16)"

find_chromium() {
    local candidate
    for candidate in "${CHROMIUM:-}" /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then CHROMIUM="$candidate"; return 0; fi
    done
    return 1
}

install() {
    local major
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "node is not installed"
    ((major >= 20)) || die "Node 20 or newer is needed (found $(node --version))"
    if [[ ! -f "$STAMP" ]]; then
        say "installing $(cd "$SRC" && node -p 'Object.entries(require("./package.json").dependencies).map(([n, v]) => n + "@" + v).join(", ")') into ${PKG#"$ROOT"/}"
        rm -rf "$PKG"
        mkdir -p "$PKG"
        cp "$SRC/package.json" "$SRC/package-lock.json" "$PKG/"
        # --ignore-scripts: the three install scripts in the tree are @firebase/util's (writes
        # an optional config only when FIREBASE_WEBAPP_CONFIG is set), protobufjs's (a version
        # notice) and re2's; re2 is superstatic's optional native regex for Hosting, which the
        # auth emulator never loads, so --omit=optional leaves it out.
        (cd "$PKG" && timeout 900 npm ci --ignore-scripts --omit=optional --no-audit --no-fund \
            --loglevel=error </dev/null >&2) || die "npm ci failed"
        touch "$STAMP"
    fi
    ln -sfn "../.local/clients/node_modules" "$SRC/node_modules" # the flows import from here
    if ! find_chromium; then
        say "installing chromium with apt-get (no Chromium found)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
            chromium </dev/null >&2 || die "apt-get install chromium failed"
        find_chromium || die "chromium still not found after installing it"
    fi
}

install_started=$(date +%s)
install
say "installed in $(($(date +%s) - install_started))s (Chromium: $CHROMIUM)"
case "${1:-}" in
    install) exit 0 ;;
    types) exec node "$SRC/lib/types.mjs" ;;
    typecheck) cd "$SRC" && exec node --test --test-reporter=spec checks/*.test.mjs ;;
esac
export CHROMIUM

# ------------------------------------------------------------ environment ----
export PUBLIC_PORT="${CLIENTS_PUBLIC_PORT:-3110}"
export INTERNAL_PORT="${CLIENTS_INTERNAL_PORT:-3111}"
export DEV_CERTS_PORT="${CLIENTS_CERTS_PORT:-3112}"
AUTH_PORT="${CLIENTS_AUTH_PORT:-9099}"
HUB_PORT="${CLIENTS_HUB_PORT:-9097}"
LOGGING_PORT="${CLIENTS_LOGGING_PORT:-9098}"
export CLIENTS_PAGE_PORT="${CLIENTS_PAGE_PORT:-5173}"
export CLIENTS_OTHER_PAGE_PORT="${CLIENTS_OTHER_PAGE_PORT:-5174}"
TIMEOUT="${CLIENTS_TIMEOUT:-240}"
unset FIREBASE_CERTS_URL # env.sh points it at the dev certificate server on DEV_CERTS_PORT
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"
export FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:$AUTH_PORT"
export CORS_ALLOWED_ORIGINS="http://localhost:$CLIENTS_PAGE_PORT,http://127.0.0.1:$CLIENTS_PAGE_PORT"
export HALO_PUBLIC_URL="http://127.0.0.1:$PUBLIC_PORT"
export HALO_INTERNAL_URL="http://127.0.0.1:$INTERNAL_PORT"
# These flows test clients, not deadlines: on a busy machine a stand-in that has just started
# (while the emulator loads) can take more than the default 4 s for the seed's first writes.
export AWS_ATTEMPT_TIMEOUT_MS="${AWS_ATTEMPT_TIMEOUT_MS:-5000}"
export AWS_OPERATION_TIMEOUT_MS="${AWS_OPERATION_TIMEOUT_MS:-15000}"
export CI=true NO_UPDATE_NOTIFIER=1 FIREBASE_CLI_DISABLE_UPDATE_CHECK=true # the CLI never prompts or phones home
cd "$ROOT"
rm -rf "$OUT"
mkdir -p "$OUT"

# ------------------------------------------------------------------ cleanup ----
standins_started="$OUT/standins-started"
EMULATOR_PID=""
TYPES_PID=""
cleanup() {
    [[ -z "$TYPES_PID" ]] || kill "$TYPES_PID" 2>/dev/null || true
    stop_dev_server
    stop_session "$EMULATOR_PID" 10 # the CLI and the emulator it forks go together
    local own=()
    [[ -f "$standins_started" ]] && mapfile -t own <"$standins_started"
    if ((${#own[@]})); then "$ROOT/scripts/standins.sh" stop "${own[@]}" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ servers ----
run_started=$(date +%s)
for port in "$AUTH_PORT" "$HUB_PORT" "$LOGGING_PORT" "$CLIENTS_PAGE_PORT" "$CLIENTS_OTHER_PAGE_PORT"; do
    port_taken "$port" && die "port $port is taken; set CLIENTS_AUTH_PORT / CLIENTS_HUB_PORT / CLIENTS_LOGGING_PORT / CLIENTS_PAGE_PORT / CLIENTS_OTHER_PAGE_PORT"
done
cat >"$OUT/firebase.json" <<JSON
{ "emulators": {
    "auth": { "host": "127.0.0.1", "port": $AUTH_PORT },
    "hub": { "host": "127.0.0.1", "port": $HUB_PORT },
    "logging": { "host": "127.0.0.1", "port": $LOGGING_PORT },
    "ui": { "enabled": false },
    "singleProjectMode": true } }
JSON
say "starting the Firebase Auth Emulator on 127.0.0.1:$AUTH_PORT (project $FIREBASE_PROJECT_ID)"
# First, so its start-up (CPU-bound: the CLI loads a large module tree) overlaps the rest.
# From $OUT, where a firebase-debug.log would land.
(cd "$OUT" && exec setsid "$PKG/node_modules/.bin/firebase" emulators:start --only auth \
    --project "$FIREBASE_PROJECT_ID" --config "$OUT/firebase.json" </dev/null >"$OUT/emulator.log" 2>&1) &
EMULATOR_PID=$!

# The type checks need no server: they run (CPU-bound too, ~1 min) while the servers start.
say "type-checking the clients against the specs (clients/checks, in the background)"
(cd "$SRC" && exec timeout --kill-after=10 "$TIMEOUT" node --test --test-reporter=tap checks/*.test.mjs \
    </dev/null >"$OUT/types.tap" 2>&1) &
TYPES_PID=$!

say "starting halo-dev serve on :$PUBLIC_PORT/:$INTERNAL_PORT (FIREBASE_AUTH_EMULATOR_HOST=$FIREBASE_AUTH_EMULATOR_HOST)"
start_private_stage cl "$OUT/server.log" "set CLIENTS_PUBLIC_PORT / CLIENTS_INTERNAL_PORT / CLIENTS_CERTS_PORT" \
    --record "$standins_started"

emulator_ready() {
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => r.json())
        .then((j) => process.exit(j.authEmulator?.ready ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$AUTH_PORT/"
}
deadline=$((SECONDS + 120))
until emulator_ready; do
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null || ((SECONDS >= deadline)); then
        tail -n 30 "$OUT/emulator.log" >&2
        die "the auth emulator did not come up within 120s"
    fi
    sleep 0.3
done
say "servers up after $(($(date +%s) - run_started))s"

# ------------------------------------------------------------------- flows ----
say "running the flows (at most ${TIMEOUT}s)"
flows_started=$(date +%s)
set +e
(cd "$SRC" && timeout --kill-after=10 "$TIMEOUT" node --test --test-reporter=tap --test-timeout=60000 "$@" flows/*.test.mjs) 2>&1 |
    tee "$OUT/flows.tap"
status=${PIPESTATUS[0]}
set -e
set +e
wait "$TYPES_PID"
types_status=$?
set -e
cat "$OUT/types.tap"
((status != 0)) || status=$types_status
count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$OUT/flows.tap" "$OUT/types.tap" | awk '{ n += $1 } END { print n + 0 }'; }
pass=$(count pass)
fail=$(count fail)
echo "clients.sh: flows took $(($(date +%s) - flows_started))s, the whole run $(($(date +%s) - run_started))s (logs in ${OUT#"$ROOT"/})"
skipped=$(count skipped)
if ((status == 124)); then
    echo "clients: timed out after ${TIMEOUT}s, ${pass:-0} passed, ${fail:-0} failed before"
else
    echo "clients: ${pass:-0} passed, ${fail:-?} failed$([[ "${skipped:-0}" != 0 ]] && echo ", $skipped skipped")"
fi
exit "$status"
