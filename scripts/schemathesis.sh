#!/usr/bin/env bash
# Schemathesis (PyPI `schemathesis`, pinned with all its dependencies in
# schemathesis-requirements.txt) against the running local gateway, both surfaces, every
# default check: no server errors; status codes, content types, headers and response bodies
# as the spec says; schema-valid data accepted and schema-invalid data rejected; unsupported
# methods answered 405; authentication enforced.
#
#   scripts/schemathesis.sh            install if needed, start a private gateway, fuzz, stop it
#
# Installs into the git-ignored .local/venv-schemathesis (idempotent: instant once installed),
# starts the local AWS stand-ins if needed, and runs its own `halo-dev serve` on its own ports
# and its own table prefix so it collides with nothing. The internal surface is fuzzed with the
# seeded super admin's token (bound first). Each public request gets a caller it can succeed for
# (schemathesis_hooks.py): link a token of the body's uid, mitra verify a mitra registered here,
# the rest an anonymous customer's. The stateful phase follows the specs' links from each create
# to what takes its id; the run prints "schemathesis: links covered N/M".
#
# Environment: ST_PUBLIC_PORT (3100), ST_INTERNAL_PORT (3101), ST_CERTS_PORT (3102),
#              ST_MAX_EXAMPLES (examples per operation, default 200), ST_SEED (default 1, fixed so
#              runs are reproducible; set ST_SEED=random for a new one), ST_WORKERS (default 1:
#              with 2, Hypothesis's lambda-source cache, which is not thread-safe, once raised
#              a FlakyFailure inside schemathesis's own case generator on CI), HALO_DEV (a
#              halo-dev binary to serve instead of building this checkout's).
#              ST_MIN_LINKS_PERCENT (default 90: the share of the specs' links the stateful phase
#              must follow), ST_SURFACES (default "public internal"), ST_PHASES (Schemathesis'
#              --phases, default all: e.g. ST_PHASES=stateful to try the links alone).
# Exit status: non-zero when schemathesis finds any failure, when the stateful phase covers fewer
# than ST_MIN_LINKS_PERCENT % of the links (or none exist), or when the server does not come up.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Every package pinned, Hypothesis included: a new release of a transitive dependency must not
# change what CI generates or how it behaves.
REQUIREMENTS="$ROOT/scripts/schemathesis-requirements.txt"
VENV="$ROOT/.local/venv-schemathesis"
STAMP="$VENV/.installed-$(sha256sum "$REQUIREMENTS" | cut -c1-16)"
OUT="$ROOT/.local/schemathesis"

started=$(date +%s)

# ------------------------------------------------------------------ install ----
if [[ ! -f "$STAMP" ]]; then
    say "installing $(grep -E '^schemathesis==' "$REQUIREMENTS") into ${VENV#"$ROOT"/}"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$REQUIREMENTS" </dev/null >&2
    touch "$STAMP"
fi

# ------------------------------------------------------------ environment ----
export PUBLIC_PORT="${ST_PUBLIC_PORT:-3100}"
export INTERNAL_PORT="${ST_INTERNAL_PORT:-3101}"
export DEV_CERTS_PORT="${ST_CERTS_PORT:-3102}"
unset FIREBASE_CERTS_URL # env.sh points it at the dev certificate server on DEV_CERTS_PORT
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-200}"
SEED="${ST_SEED:-1}"
WORKERS="${ST_WORKERS:-1}"
MIN_LINKS_PERCENT="${ST_MIN_LINKS_PERCENT:-90}"
cd "$ROOT"
mkdir -p "$OUT"

# ------------------------------------------------------------------ server ----
trap stop_dev_server EXIT
trap 'exit 130' INT TERM
start_private_stage st "$OUT/server.log" "set ST_PUBLIC_PORT / ST_INTERNAL_PORT / ST_CERTS_PORT"

# url [token] [method] [JSON body]: prints "status body".
http() {
    python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
url, token, method = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else ""), (sys.argv[3] if len(sys.argv) > 3 else "GET")
body = sys.argv[4].encode() if len(sys.argv) > 4 else b""
req = urllib.request.Request(url, method=method, data=body if method != "GET" else None)
if body:
    req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", "Bearer " + token)
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status, r.read().decode()[:300])
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode()[:300])
except Exception as e:
    print(0, e)
PY
}

# ------------------------------------------------------------------ tokens ----
admin_token="$("$DEV" token admin --uid "st-admin-$$")"
bound="$(http "http://127.0.0.1:$INTERNAL_PORT/internal/auth/verify" "$admin_token" POST)"
if [[ "$bound" != 200* ]]; then
    say "could not bind the super admin's token: $bound"
    exit 1
fi
# A registered, active mitra, whose phone the hooks put in mitra verify's token.
export ST_MITRA_PHONE="+62811$(printf '%07d' $(($$ % 10000000)))" ST_MITRA_UID="st-mitra-$$"
mitras="http://127.0.0.1:$INTERNAL_PORT/internal/mitras"
mitra="$(http "$mitras" "$admin_token" POST "{\"phone\":\"$ST_MITRA_PHONE\",\"display_name\":\"Dr. Fuzz\"}")"
mitra_id="$(sed -E 's/.*"id":"([^"]+)".*/\1/' <<<"$mitra")"
activated="$(http "$mitras/$mitra_id/status" "$admin_token" PATCH '{"is_active":true}')"
if [[ "$mitra" != 201* || "$activated" != 200* ]]; then
    say "could not register the mitra: $mitra / $activated"
    exit 1
fi
export ST_HALO_DEV="$(realpath "$DEV")" ST_RUN="$$" ST_SEED="$SEED" SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py"

# ---------------------------------------------------------------------- run ----
status=0
summary=()
links_covered=0
links_total=0
run_surface() { # name port caller (the arguments of `halo-dev token`)
    local name="$1" port="$2" log="$OUT/$1.log" rc=0
    export ST_CALLER="$3"
    say "fuzzing the $name surface (max $MAX_EXAMPLES examples per operation, seed $SEED)"
    local seed_args=(--seed "$SEED")
    [[ "$SEED" == random ]] && seed_args=()
    set +e
    # Run from .local/schemathesis, so its and Hypothesis's caches land there, not in the repo.
    (cd "$OUT" && "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" \
        run "http://127.0.0.1:$port/openapi.json" \
        --url "http://127.0.0.1:$port" \
        --max-examples "$MAX_EXAMPLES" "${seed_args[@]}" \
        --workers "$WORKERS" \
        --generation-database none \
        --request-timeout 10 \
        ${ST_PHASES:+--phases "$ST_PHASES"} \
        --report junit --report-junit-path "$OUT/$name-junit.xml" \
        --no-color) 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    local cases
    cases="$(grep -Eo '[0-9]+ generated' "$log" | tail -n1 | grep -Eo '[0-9]+' || echo '?')"
    # The stateful phase's "API Links: N covered / S selected / T total" line.
    local links covered total
    links="$(grep -Eo 'API Links: +[0-9]+ covered / [0-9]+ selected / [0-9]+ total' "$log" | tail -n1)"
    covered="$(grep -Eo '[0-9]+ covered' <<<"$links" | grep -Eo '[0-9]+' || echo 0)"
    total="$(grep -Eo '[0-9]+ total' <<<"$links" | grep -Eo '[0-9]+' || echo 0)"
    links_covered=$((links_covered + covered))
    links_total=$((links_total + total))
    summary+=("$name: $cases test cases generated, links covered $covered/$total, schemathesis exit $rc")
    ((rc == 0)) || status=1
    if ((total == 0 || covered * 100 < total * MIN_LINKS_PERCENT)); then
        summary+=("$name: the stateful phase followed fewer than $MIN_LINKS_PERCENT % of the links")
        status=1
    fi
}
[[ "${ST_SURFACES:-public internal}" == *public* ]] && run_surface public "$PUBLIC_PORT" "anonymous --uid=st-customer-$$"
export ST_SIGN_IN_URL="http://127.0.0.1:$INTERNAL_PORT/internal/auth/verify" # read by the internal caller only
[[ "${ST_SURFACES:-public internal}" == *internal* ]] && run_surface internal "$INTERNAL_PORT" "admin --uid=st-admin-$$"

echo
for line in "${summary[@]}"; do echo "schemathesis.sh: $line"; done
echo "schemathesis: links covered $links_covered/$links_total"
echo "schemathesis.sh: finished in $(($(date +%s) - started))s ($([[ $status == 0 ]] && echo passed || echo FAILED))"
exit "$status"
