#!/usr/bin/env bash
# Runs every test: installs and starts the local AWS stand-ins if needed, then
# lints the SAM template, checks for unused dependencies, runs the unit and HTTP-level tests
# against the local gateway, drives the API with real clients (scripts/clients.sh), then fuzzes
# both surfaces with Schemathesis from the OpenAPI specs. SAM_LOCAL=1 also compares every route
# through `sam local start-api` with the local gateway (scripts/sam-local.sh --smoke), and RIE=1
# has every function's x86-64 release bootstrap answer its events/ fixture under AWS's Runtime
# Interface Emulator (scripts/smoke-lambda-build.sh --x86-64): beside the default run, as a fresh
# clone pays a release build of 24 functions (and docker.io for SAM_LOCAL) for them.
# At the end it stops the stand-ins it started (those already running stay up).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
started=$(date +%s)
standins_started="$(mktemp)"
stop_own_standins() {
    [[ -z "${tools_pid:-}" ]] || kill "$tools_pid" 2>/dev/null || true
    local own
    mapfile -t own <"$standins_started"
    rm -f "$standins_started"
    if ((${#own[@]})); then "$ROOT/scripts/standins.sh" stop "${own[@]}" || true; fi
}
trap stop_own_standins EXIT
trap 'exit 130' INT TERM
"$ROOT/scripts/standins.sh" start --record "$standins_started"
# SAM CLI, cargo-lambda and cargo-machete into .local/ on first use: installed while the tests
# build and run (a fresh clone's cargo-machete is a source build), checked when they end.
mkdir -p "$ROOT/.local/log"
tools_log="$ROOT/.local/log/tools.log"
"$ROOT/scripts/tools.sh" >"$tools_log" 2>&1 &
tools_pid=$!
results="$ROOT/.local/log/cargo-test.log"
set +e
cargo test --locked --workspace --no-fail-fast "$@" 2>&1 | tee "$results"
cargo_status=${PIPESTATUS[0]}
set -e
# The clients, the fuzzer (and sam-local's comparison) serve halo-dev as the tests built it.
HALO_DEV="$(halo_dev_bin --workspace --tests)"
export HALO_DEV
wait "$tools_pid" || { cat "$tools_log" >&2; die "installing the tools failed (above)"; }
eval "$("$ROOT/scripts/tools.sh" env)"
# A dependency a crate lists and never uses fails the run (cargo-machete, installed by tools.sh).
# One needed only for its features goes under [package.metadata.cargo-machete] ignored, with why.
cargo machete || die "unused dependencies (listed above): remove them from those Cargo.toml files"
sam validate --lint --template "$ROOT/template.yaml"
summary=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$results")
[ "$cargo_status" -eq 0 ] || { echo "cargo tests: $summary"; exit "$cargo_status"; }
# Real clients: the Firebase Auth Emulator, the Firebase JS SDK and headless Chromium against the
# API (clients/, ~1 min once installed). A failure there still lets the fuzzing below run.
clients_log="$ROOT/.local/log/clients.log"
set +e
"$ROOT/scripts/clients.sh" 2>&1 | tee "$clients_log"
clients_status=${PIPESTATUS[0]}
set -e
clients_summary=$(grep '^clients: ' "$clients_log" | tail -n1 || true)
[ -n "$clients_summary" ] || { clients_summary="clients: did not run"; clients_status=1; }
# The template's functions in Lambda containers (Docker, the RIE), route by route against the
# local gateway: ~3 min once Docker and the release build are there; a fresh clone first
# installs docker.io and runs sam build (the 24 release binaries, several minutes).
sam_summary="sam-local: 0 passed, 0 failed (not run: SAM_LOCAL=1 runs it)"
if [[ "${SAM_LOCAL:-0}" != 0 ]]; then
    sam_log="$ROOT/.local/log/sam-local.log"
    set +e
    "$ROOT/scripts/sam-local.sh" --smoke 2>&1 | tee "$sam_log"
    sam_status=${PIPESTATUS[0]}
    set -e
    sam_summary=$(grep '^sam-local: ' "$sam_log" | tail -n1 || true)
    [ -n "$sam_summary" ] || sam_summary="sam-local: did not run"
    ((sam_status == 0)) || clients_status=1 # the exit status of the whole run
fi
# Every built bootstrap under the RIE, after the cargo tests whose test binary it reuses: the
# release build (shared with SAM_LOCAL's sam build; several minutes cold) and ~1 min of invocations.
rie_summary="rie: 0 passed, 0 failed (not run: RIE=1 runs it)"
if [[ "${RIE:-0}" != 0 ]]; then
    rie_log="$ROOT/.local/log/rie.log"
    set +e
    "$ROOT/scripts/smoke-lambda-build.sh" --x86-64 2>&1 | tee "$rie_log"
    rie_status=${PIPESTATUS[0]}
    set -e
    rie_summary=$(grep '^rie: [0-9]* passed' "$rie_log" | tail -n1 || true)
    [ -n "$rie_summary" ] || rie_summary="rie: did not run"
    ((rie_status == 0)) || clients_status=1 # the exit status of the whole run
fi
# One closing line for CI: the cargo tests, the client flows, the sam local tour and the RIE run.
total=$(printf '%s\n%s\n%s\n%s\n' "$summary" "${clients_summary#clients: }" "${sam_summary#sam-local: }" \
    "${rie_summary#rie: }" | awk '/passed/ { p += $1; f += $3 } END { printf "%d passed, %d failed", p, f }')
"$ROOT/scripts/schemathesis.sh" ||
    { echo "$clients_summary; $sam_summary; $rie_summary"; echo "tests: $total"; exit 1; }
echo "test.sh: finished in $(( $(date +%s) - started ))s"
echo "cargo $summary; $clients_summary; $sam_summary; $rie_summary"
echo "tests: $total"
exit "$clients_status"
