#!/usr/bin/env bash
# Smoke test of the deployable artifacts: the release build of every function (`make lambdas`,
# the one `cargo lambda build` that `sam build` runs) for arm64 (the template's default
# Architecture) or x86-64, then for each function
#   - its `bootstrap` is an ELF of that architecture whose glibc needs are within
#     provided.al2023's (2.34),
#   - that very bootstrap answers its events/<function>.json under AWS's Runtime Interface
#     Emulator (scripts/rie.sh: aws-lambda-rie from the aws-sam-cli wheel, what SAM and AWS's
#     base images run) with the expected status and envelope. The fixtures are filled and
#     checked by tests/api/events.rs, run with EVENTS_BOOTSTRAPS: each route prepares its own
#     stage on the DynamoDB Local and moto stand-ins (tables, stored entities, dev tokens
#     verified against its own certificate server) and invokes the bootstrap under the RIE
#     instead of the handler in-process. The RIE's INIT REPORT and REPORT lines are printed.
#     An arm64 bootstrap runs under the arm64 RIE, both emulated by qemu-aarch64 with Debian's
#     aarch64 glibc as the bootstrap's root (-L /usr/aarch64-linux-gnu); the script apt-get
#     installs qemu-user and libc6-arm64-cross when they are missing (zig links no libgcc_s).
# The last line is `rie: N passed, M failed`.
#
#   scripts/smoke-lambda-build.sh [--arm64|--x86-64] [function...]   (LAMBDA_ARCH=--x86-64 works too)
#   SKIP_BUILD=1 scripts/smoke-lambda-build.sh   check the bootstraps make lambdas / sam build left
#                                                in $LAMBDA_DIR (default target/lambda)
# Functions named on the command line restrict the checks and invocations (the build is
# always the whole set, so it is shared with sam build's).
#
# Not part of scripts/test.sh's default run: from a cold target/ the release build (one codegen
# unit, opt-level z) takes several minutes on 2 cores; `RIE=1 scripts/test.sh` adds the x86-64
# run. README gives the times.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
ARCH="${LAMBDA_ARCH:---arm64}"  # spelled as the Makefile's LAMBDA_ARCH and cargo lambda's flag
FUNCTIONS=()
for arg in "$@"; do
    case "$arg" in
        --arm64 | --x86-64) ARCH="$arg" ;;
        -*) echo "usage: scripts/smoke-lambda-build.sh [--arm64|--x86-64] [function...]" >&2; exit 2 ;;
        *) [[ -f "events/$arg.json" ]] || { echo "no function $arg (no events/$arg.json)" >&2; exit 2; }
           FUNCTIONS+=("$arg") ;;
    esac
done
if ((${#FUNCTIONS[@]} == 0)); then
    for event in events/*.json; do FUNCTIONS+=("$(basename "$event" .json)"); done
fi
AL2023_GLIBC="2.34"
started=$(date +%s)
SCRIPT_NAME=smoke

case "$ARCH" in
    --arm64) ELF_MACHINE=AArch64 ;;
    --x86-64) ELF_MACHINE=X86-64 ;;
    *) say "LAMBDA_ARCH is --arm64 or --x86-64, not '$ARCH'"; exit 2 ;;
esac
# readelf (binutils) reads the ELF; the arm64 run needs qemu-user and the aarch64 glibc.
needs=()
command -v readelf >/dev/null || needs+=(binutils)
if [[ "$ARCH" == --arm64 ]]; then
    command -v qemu-aarch64 >/dev/null || needs+=(qemu-user)
    [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || needs+=(libc6-arm64-cross)
fi
if ((${#needs[@]})); then
    [[ $(id -u) == 0 ]] || { say "needs Debian packages: ${needs[*]} (apt-get install them as root)"; exit 1; }
    say "apt-get install ${needs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    apt_install() { apt-get install -y -qq --no-install-recommends "${needs[@]}" >"$apt_log" 2>&1; }
    # A stale or empty package list (a fresh machine) is the usual failure: update once and retry.
    apt_install || { apt-get update -qq >"$apt_log" 2>&1 && apt_install; } || { cat "$apt_log" >&2; exit 1; }
    rm -f "$apt_log"
fi

"$ROOT/scripts/tools.sh" >/dev/null # cargo-lambda, zig, the aarch64 std and the RIE; a failure stops here
eval "$("$ROOT/scripts/tools.sh" env)"
if [[ "${SKIP_BUILD:-}" == 1 ]]; then
    LAMBDA_DIR="${LAMBDA_DIR:-$ROOT/target/lambda}"
    say "SKIP_BUILD=1: checking the bootstraps already in $LAMBDA_DIR (from sam build or make lambdas)"
else
    # Its own directory per architecture, so it never swaps make lambdas' or sam build's set;
    # the compiled code in target/ is shared with them.
    LAMBDA_DIR="$ROOT/target/lambda-smoke/${ARCH#--}"
    say "make lambdas LAMBDA_ARCH=$ARCH (cargo lambda build --release of every function)"
    build_started=$(date +%s)
    make --no-print-directory -C "$ROOT" lambdas LAMBDA_ARCH="$ARCH" LAMBDA_DIR="$LAMBDA_DIR" >&2
    say "built in $(( $(date +%s) - build_started ))s"
fi

# The artifacts: 64-bit executables of the architecture that ask for no glibc newer than AL2023's.
for function in "${FUNCTIONS[@]}"; do
    bootstrap="$LAMBDA_DIR/$function/bootstrap"
    [[ -x "$bootstrap" ]] || { say "no $bootstrap"; exit 1; }
    readelf -h "$bootstrap" | grep -q "Machine:.*$ELF_MACHINE" || { say "$function: not an $ELF_MACHINE ELF"; exit 1; }
    needed=$(readelf -V "$bootstrap" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
    if [[ "$(printf '%s\n%s\n' "$needed" "$AL2023_GLIBC" | sort -V | tail -n1)" != "$AL2023_GLIBC" ]]; then
        say "$function: bootstrap needs GLIBC_$needed, newer than provided.al2023's $AL2023_GLIBC"
        exit 1
    fi
done
say "${#FUNCTIONS[@]} bootstraps: ELF $ELF_MACHINE, none needs more than provided.al2023's GLIBC_$AL2023_GLIBC"

# Each fixture's test, answered by the bootstrap under the RIE; the stand-ins this run starts
# are stopped at the end.
own_standins="$(mktemp)"
stop_own_standins() {
    local own
    mapfile -t own <"$own_standins"
    rm -f "$own_standins" "${results:-}"
    if ((${#own[@]})); then "$ROOT/scripts/standins.sh" stop "${own[@]}" >/dev/null || true; fi
}
trap stop_own_standins EXIT
"$ROOT/scripts/standins.sh" start --record "$own_standins" >/dev/null
results="$(mktemp)"
say "the events/ fixtures under aws-lambda-rie ($([[ "$ARCH" == --arm64 ]] && echo "arm64, emulated by qemu-aarch64" || echo "x86_64, native"))"
run_started=$(date +%s)
set +e
routes=$(IFS=,; echo "${FUNCTIONS[*]}")
EVENTS_BOOTSTRAPS="$LAMBDA_DIR" EVENTS_ROUTES="$routes" cargo test --locked --workspace --test api -- --exact \
    --nocapture events::every_route_answers_its_event_fixture_through_its_own_handler 2>&1 | tee "$results" >&2
set -e
passed=$(grep -c '^events: .* passed$' "$results" || true)
failed=$((${#FUNCTIONS[@]} - passed))
say "invocations took $(( $(date +%s) - run_started ))s, the whole run $(( $(date +%s) - started ))s"
echo "rie: $passed passed, $failed failed"
((failed == 0))
