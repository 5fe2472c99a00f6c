#!/usr/bin/env bash
# Smoke test of a deployable artifact: `cargo lambda build --release` of ONE
# function (default customer-anonymous), then checks that
#   - it is an x86-64 ELF whose glibc needs are within provided.al2023's (2.34),
#   - the very `bootstrap` that `sam build` would ship serves one invocation of
#     events/<function>.json through a stand-in Lambda Runtime API, against the
#     local DynamoDB stand-in, and answers the expected status with the envelope.
#
#   scripts/smoke-lambda-build.sh [function]
#   SKIP_BUILD=1 scripts/smoke-lambda-build.sh   check the bootstrap sam build / make lambdas left
#
# Not part of scripts/test.sh: from a cold target/ the release build (LTO, one
# codegen unit) takes several minutes on 2 cores; see DEPLOYMENT.md for times.
# Only functions whose fixture needs no placeholder can be invoked this way
# (customer-anonymous); for others the build and ELF checks still run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
FUNCTION="${1:-customer-anonymous}"
AL2023_GLIBC="2.34"
started=$(date +%s)
say() { echo "smoke: $*" >&2; }

BOOTSTRAP="$ROOT/target/lambda/$FUNCTION/bootstrap"
if [[ "${SKIP_BUILD:-}" == 1 ]]; then
    say "SKIP_BUILD=1: checking the bootstrap already in target/lambda (from sam build or make lambdas)"
    [[ -x "$BOOTSTRAP" ]] || { say "no $BOOTSTRAP"; exit 1; }
else
    "$ROOT/scripts/tools.sh" >/dev/null # cargo-lambda and zig on first use; a failure stops here
    eval "$("$ROOT/scripts/tools.sh" env)"
    say "cargo lambda build --release --x86-64 -p $FUNCTION"
    cargo lambda build --release --locked --x86-64 --lambda-dir "$ROOT/target/lambda" --package "$FUNCTION"
    say "built $BOOTSTRAP ($(( $(stat -c %s "$BOOTSTRAP") / 1024 )) KiB) in $(( $(date +%s) - started ))s"
fi

# The artifact: a 64-bit x86-64 executable that asks for no glibc newer than AL2023's.
readelf -h "$BOOTSTRAP" | grep -q 'Machine:.*X86-64' || { say "not an x86-64 ELF"; exit 1; }
needed=$(readelf -V "$BOOTSTRAP" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
if [[ "$(printf '%s\n%s\n' "$needed" "$AL2023_GLIBC" | sort -V | tail -n1)" != "$AL2023_GLIBC" ]]; then
    say "bootstrap needs GLIBC_$needed, newer than provided.al2023's $AL2023_GLIBC"
    exit 1
fi
say "ELF x86-64, needs at most GLIBC_$needed (provided.al2023 has $AL2023_GLIBC)"

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
"$(halo_dev_bin)" setup

work=$(mktemp -d)
trap 'kill "${runtime_pid:-}" "${fn_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$EVENT" "$work/response.json" "$work/port" >"$work/runtime.log" 2>&1 <<'PY' &
# A minimal Lambda Runtime API: hands out one event, records the function's response.
import http.server, sys, threading
event = open(sys.argv[1], "rb").read()
served = threading.Event()
class Runtime(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next") and not served.is_set():
            served.set()
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", "smoke-request-1")
            self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:ap-southeast-3:123456789012:function:smoke")
            self.send_header("Content-Length", str(len(event)))
            self.end_headers()
            self.wfile.write(event)
        else:
            threading.Event().wait()  # later polls block, as Lambda's do between invocations
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "wb") as f:
            f.write((self.path + "\n").encode() + body)
        self.send_response(202)
        self.end_headers()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
server.daemon_threads = True
open(sys.argv[3], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
runtime_pid=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
AWS_LAMBDA_RUNTIME_API="127.0.0.1:$(cat "$work/port")" AWS_LAMBDA_FUNCTION_NAME="$FUNCTION" \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
    "$BOOTSTRAP" >"$work/function.log" 2>&1 &
fn_pid=$!
for _ in $(seq 100); do [[ -s "$work/response.json" ]] && break; sleep 0.1; done
[[ -s "$work/response.json" ]] || { say "no response; function log:"; cat "$work/function.log" >&2; exit 1; }

python3 - "$work/response.json" <<'PY'
import json, sys
path, body = open(sys.argv[1]).read().split("\n", 1)
assert path.endswith("/smoke-request-1/response"), f"function reported an error: {path} {body}"
response = json.loads(body)
envelope = json.loads(response["body"])
assert response["statusCode"] == 201, response
assert envelope["success"] is True and envelope["data"]["is_anonymous"] is True, envelope
print(f"smoke: bootstrap answered {response['statusCode']} {response['body']}", file=sys.stderr)
PY
say "passed in $(( $(date +%s) - started ))s"
