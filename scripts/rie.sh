#!/usr/bin/env bash
# Runs ONE Lambda bootstrap under AWS's Runtime Interface Emulator (aws-lambda-rie, the static
# binaries inside the aws-sam-cli wheel that scripts/tools.sh installs; the same program
# `sam local` and AWS's base images run), invokes it once with an event, and prints what the
# RIE reports for that cold invocation.
#
#   scripts/rie.sh [--arm64|--x86-64] [--answer FILE] BOOTSTRAP EVENT_JSON
#
# An x86-64 bootstrap runs under the x86_64 RIE natively. An arm64 one runs under the arm64 RIE,
# both emulated by qemu-aarch64 (the RIE starts `qemu-aarch64 -L /usr/aarch64-linux-gnu
# BOOTSTRAP`; Debian's qemu-user and libc6-arm64-cross, as scripts/smoke-lambda-build.sh
# installs them). The architecture defaults to the bootstrap's own (its ELF header).
#
# The function gets the caller's environment (AWS_ENDPOINT_URL_*, TABLE_PREFIX, …), with
# AWS_LAMBDA_FUNCTION_NAME = the bootstrap's directory name and AWS_LAMBDA_FUNCTION_MEMORY_SIZE
# = 512 (the template's) unless set.
#
# Prints on stdout, last line the RIE's own:
#   INIT REPORT durationMs=<ms>    the runtime's init as the RIE measured it (its log line
#                                  "INIT REPORT(durationMs: …)"); see BENCHMARKS.md for why this,
#                                  and not the REPORT's "Init Duration", is the init figure
#   REPORT RequestId: … Init Duration: … ms Duration: … ms Billed Duration: … ms
#          Memory Size: … MB Max Memory Used: … MB
# The function's answer (the invocation's response body) goes to FILE with --answer.
# Exit status: 0 when the invocation answered without a function error, else non-zero (the
# RIE's log is shown). Ports: RIE_PORT (the RIE's HTTP endpoint) and RIE_RUNTIME_API_PORT
# (the Runtime API it serves the bootstrap), free ones when unset. RIE_TIMEOUT (seconds, 60).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
say() { echo "rie.sh: $*" >&2; }
usage() { say "usage: scripts/rie.sh [--arm64|--x86-64] [--answer FILE] BOOTSTRAP EVENT_JSON"; exit 2; }

arch="" answer="" args=()
while (($#)); do
    case "$1" in
        --arm64 | --x86-64) arch="$1" ;;
        --answer) answer="${2:-}"; [[ -n "$answer" ]] || usage; shift ;;
        -*) usage ;;
        *) args+=("$1") ;;
    esac
    shift
done
((${#args[@]} == 2)) || usage
bootstrap="$(realpath "${args[0]}")" event="${args[1]}"
[[ -x "$bootstrap" ]] || { say "no executable $bootstrap"; exit 1; }
[[ -r "$event" ]] || { say "no event $event"; exit 1; }
if [[ -z "$arch" ]]; then
    case "$(od -An -tx1 -j18 -N1 "$bootstrap" | tr -d ' ')" in
        b7) arch=--arm64 ;;
        3e) arch=--x86-64 ;;
        *) say "$bootstrap is neither an x86-64 nor an arm64 ELF"; exit 1 ;;
    esac
fi

if [[ "$arch" == --arm64 ]]; then
    command -v qemu-aarch64 >/dev/null && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] ||
        { say "an arm64 bootstrap needs qemu-user and libc6-arm64-cross (scripts/smoke-lambda-build.sh --arm64 installs them)"; exit 1; }
    rie=(qemu-aarch64 "$("$ROOT/scripts/tools.sh" rie arm64)")
    function=(qemu-aarch64 -L /usr/aarch64-linux-gnu "$bootstrap")
else
    rie=("$("$ROOT/scripts/tools.sh" rie x86_64)")
    function=("$bootstrap")
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="${RIE_PORT:-$(free_port)}"
runtime_port="${RIE_RUNTIME_API_PORT:-$(free_port)}"
log=$(mktemp)
rie_pid=""
# The RIE ends the runtime it started when it gets TERM; KILL only if it does not.
stop_rie() {
    if [[ -n "$rie_pid" ]] && kill -0 "$rie_pid" 2>/dev/null; then
        kill -TERM "$rie_pid" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$rie_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$rie_pid" 2>/dev/null || true
    fi
    rm -f "$log" "$log.answer"
}
trap stop_rie EXIT

AWS_LAMBDA_FUNCTION_NAME="${AWS_LAMBDA_FUNCTION_NAME:-$(basename "$(dirname "$bootstrap")")}" \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE="${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-512}" \
    "${rie[@]}" --log-level info --runtime-interface-emulator-address "127.0.0.1:$port" \
    --runtime-api-address "127.0.0.1:$runtime_port" "${function[@]}" </dev/null >"$log" 2>&1 &
rie_pid=$!

# The RIE starts the runtime only on the first invocation (as Lambda's on-demand init does),
# so the first call is the cold one; retried only until the RIE's endpoint listens.
out="$log.answer"
deadline=$((SECONDS + ${RIE_TIMEOUT:-60}))
until status=$(curl -s -o "$out" -w '%{http_code}' --max-time "${RIE_TIMEOUT:-60}" \
    -X POST --data-binary "@$event" "http://127.0.0.1:$port/2015-03-31/functions/function/invocations"); do
    if ! kill -0 "$rie_pid" 2>/dev/null || ((SECONDS >= deadline)); then
        say "the RIE did not answer; its log:"; cat -v "$log" >&2; exit 1
    fi
    sleep 0.1
done
for _ in $(seq 50); do grep -aq '^REPORT ' "$log" && break; sleep 0.1; done
report=$(grep -a '^REPORT ' "$log" | head -n1 | tr '\t' ' ' | sed 's/ *$//' || true)
init=$(grep -ao 'INIT REPORT(durationMs: [0-9.]*' "$log" | head -n1 | grep -o '[0-9.]*$' || true)
[[ -z "$answer" ]] || cp "$out" "$answer"
# A function error is still HTTP 200 from the RIE, with Lambda's error object as the body.
if [[ "$status" != 200 || -z "$report" ]] || grep -q '"errorType"' "$out"; then
    say "the invocation failed (HTTP $status): $(head -c 500 "$out")"
    say "the RIE's log:"; cat -v "$log" >&2; exit 1
fi
echo "INIT REPORT durationMs=${init:-?}"
echo "$report"
