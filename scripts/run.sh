#!/usr/bin/env bash
# Starts the whole API locally: DynamoDB Local and moto (installed on first use),
# tables, the anonymity parameter and the seed, then the public API on
# $PUBLIC_PORT (3000) and the internal API on $INTERNAL_PORT (3001).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/standins.sh" start
DEV="$(halo_dev_bin)"
exec "$DEV" serve
