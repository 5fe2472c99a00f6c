#!/usr/bin/env bash
# A bounded local load run: starts the API on spare ports with fresh tables,
# drives it with concurrent mixed public and internal traffic, then audits that
# every 201 is persisted, nothing duplicated and no request got a 5xx.
#   scripts/load.sh [--clients 32] [--seconds 120]
#   scripts/load.sh --chaos [--clients 32]
# --chaos (about 80 s) serves the API with DynamoDB, SSM and the certificate server behind
# fault proxies (LOAD_DYNAMODB_PROXY_PORT, LOAD_SSM_PROXY_PORT, LOAD_CERTS_PROXY_PORT), breaks
# each in turn under the traffic, then reconciles storage with the answers.
set -euo pipefail
export PUBLIC_PORT="${LOAD_PUBLIC_PORT:-3200}" INTERNAL_PORT="${LOAD_INTERNAL_PORT:-3201}" DEV_CERTS_PORT="${LOAD_CERTS_PORT:-3202}"
export DYNAMODB_PROXY_PORT="${LOAD_DYNAMODB_PROXY_PORT:-3203}" SSM_PROXY_PORT="${LOAD_SSM_PROXY_PORT:-3204}" CERTS_PROXY_PORT="${LOAD_CERTS_PROXY_PORT:-3205}"
export TABLE_PREFIX="halobestie-load-$(date +%s)" ANONYMITY_PARAMETER="/halobestie/load/$(date +%s)/anonymity_enabled"
unset FIREBASE_CERTS_URL
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/standins.sh" start >/dev/null
DEV="$(halo_dev_bin)"
mkdir -p "$ROOT/.local/log"
if [[ " $* " == *" --chaos "* ]]; then
    # The chaos run starts the API itself, behind its proxies.
    RUST_LOG=warn exec "$DEV" load --server-log "$ROOT/.local/log/load-serve.log" "$@"
fi
trap stop_dev_server EXIT
trap 'exit 130' INT TERM
RUST_LOG=warn start_dev_server "$DEV" "$ROOT/.local/log/load-serve.log" \
    "set LOAD_PUBLIC_PORT / LOAD_INTERNAL_PORT / LOAD_CERTS_PORT"
"$DEV" load "$@"
