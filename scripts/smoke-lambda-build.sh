#!/usr/bin/env bash
# Smoke test of a deployable artifact: `cargo lambda build --release` of ONE
# function (default customer-anonymous) for arm64 (the template's default
# Architecture) or x86-64, then checks that
#   - it is an ELF of that architecture whose glibc needs are within provided.al2023's (2.34),
#   - the very `bootstrap` that `sam build` would ship serves one invocation of
#     events/<function>.json under AWS's Runtime Interface Emulator (scripts/rie.sh:
#     aws-lambda-rie from the aws-sam-cli wheel, what SAM and AWS's base images run),
#     against the local DynamoDB stand-in, and answers the expected status with the
#     envelope; the RIE's INIT REPORT and REPORT lines are printed.
#     An arm64 bootstrap runs under the arm64 RIE, both emulated by qemu-aarch64 with
#     Debian's aarch64 glibc as the bootstrap's root (-L /usr/aarch64-linux-gnu); the
#     script apt-get installs qemu-user and libc6-arm64-cross when they are missing
#     (zig links no libgcc_s).
#
#   scripts/smoke-lambda-build.sh [--arm64|--x86-64] [function]   (LAMBDA_ARCH=--x86-64 works too)
#   SKIP_BUILD=1 scripts/smoke-lambda-build.sh   check the bootstrap make lambdas / sam build left
#                                                in $LAMBDA_DIR (default target/lambda)
#
# Not part of scripts/test.sh: from a cold target/ the release build (one codegen
# unit, opt-level z) takes several minutes on 2 cores; see DEPLOYMENT.md for times.
# Only functions whose fixture needs no placeholder can be invoked this way
# (customer-anonymous); for others the build and ELF checks still run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
ARCH="${LAMBDA_ARCH:---arm64}"  # spelled as the Makefile's LAMBDA_ARCH and cargo lambda's flag
FUNCTION=customer-anonymous
for arg in "$@"; do
    case "$arg" in
        --arm64 | --x86-64) ARCH="$arg" ;;
        -*) echo "usage: scripts/smoke-lambda-build.sh [--arm64|--x86-64] [function]" >&2; exit 2 ;;
        *) FUNCTION="$arg" ;;
    esac
done
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

if [[ "${SKIP_BUILD:-}" == 1 ]]; then
    LAMBDA_DIR="${LAMBDA_DIR:-$ROOT/target/lambda}"
    BOOTSTRAP="$LAMBDA_DIR/$FUNCTION/bootstrap"
    say "SKIP_BUILD=1: checking the bootstrap already in $LAMBDA_DIR (from sam build or make lambdas)"
    [[ -x "$BOOTSTRAP" ]] || { say "no $BOOTSTRAP"; exit 1; }
else
    # Its own directory, so the one function it builds never mixes into make lambdas' set.
    LAMBDA_DIR="$ROOT/target/lambda-smoke/${ARCH#--}"
    BOOTSTRAP="$LAMBDA_DIR/$FUNCTION/bootstrap"
    "$ROOT/scripts/tools.sh" >/dev/null # cargo-lambda, zig and the aarch64 std; a failure stops here
    eval "$("$ROOT/scripts/tools.sh" env)"
    say "cargo lambda build --release $ARCH -p $FUNCTION"
    build_started=$(date +%s)
    cargo lambda build --release --locked "$ARCH" --lambda-dir "$LAMBDA_DIR" --package "$FUNCTION"
    say "built $BOOTSTRAP ($(( $(stat -c %s "$BOOTSTRAP") / 1024 )) KiB) in $(( $(date +%s) - build_started ))s"
fi

# The artifact: a 64-bit executable of the architecture that asks for no glibc newer than AL2023's.
readelf -h "$BOOTSTRAP" | grep -q "Machine:.*$ELF_MACHINE" || { say "not an $ELF_MACHINE ELF"; exit 1; }
needed=$(readelf -V "$BOOTSTRAP" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
if [[ "$(printf '%s\n%s\n' "$needed" "$AL2023_GLIBC" | sort -V | tail -n1)" != "$AL2023_GLIBC" ]]; then
    say "bootstrap needs GLIBC_$needed, newer than provided.al2023's $AL2023_GLIBC"
    exit 1
fi
say "ELF $ELF_MACHINE, needs at most GLIBC_$needed (provided.al2023 has $AL2023_GLIBC)"
EVENT="$ROOT/events/$FUNCTION.json"
if grep -q '{{' "$EVENT"; then
    say "events/$FUNCTION.json needs live values ({{...}}); skipping the invocation"
    exit 0
fi

# One invocation through a stand-in Runtime API, against fresh tables on the local stand-ins.
"$ROOT/scripts/standins.sh" start
export TABLE_PREFIX="smoke-$(date +%s)-$$"
export ANONYMITY_PARAMETER="/halobestie/smoke/$TABLE_PREFIX/anonymity_enabled"
export FIREBASE_CERTS_URL="http://127.0.0.1:9/unused"  # the invoked route needs no token
"${HALO_DEV:-$(halo_dev_bin)}" setup # HALO_DEV: a halo-dev binary instead of this checkout's build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$("$ROOT/scripts/rie.sh" "$ARCH" --answer "$work/response.json" "$BOOTSTRAP" "$EVENT")
say "under aws-lambda-rie ($([[ "$ARCH" == --arm64 ]] && echo "arm64, emulated by qemu-aarch64" || echo "x86_64, native")):"
sed 's/^/smoke:   /' <<<"$report" >&2

python3 - "$work/response.json" <<'PY'
import json, sys
response = json.load(open(sys.argv[1]))
envelope = json.loads(response["body"])
assert response["statusCode"] == 201, response
assert envelope["success"] is True and envelope["data"]["is_anonymous"] is True, envelope
print(f"smoke: bootstrap answered {response['statusCode']} {response['body']}", file=sys.stderr)
PY
say "passed in $(( $(date +%s) - started ))s"
