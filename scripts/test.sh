#!/usr/bin/env bash
# Runs every test: installs and starts the local AWS stand-ins if needed, then
# the unit tests and the HTTP-level tests against the local gateway.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
started=$(date +%s)
"$ROOT/scripts/standins.sh" start
cargo test --locked --workspace --no-fail-fast "$@"
echo "test.sh: finished in $(( $(date +%s) - started ))s"
