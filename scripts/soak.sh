#!/usr/bin/env bash
# The soak (BENCHMARKS.md, "Soak"): one warm process of each function kind (a customer's
# route, the polled anonymity flag, a control-center route) serves 100,000 invocations with
# rotating callers and tokens (minted ahead); prints RSS, descriptors and cache maxima per function and
#
#   soak: requests=… per function, 3 functions in … s; rss_growth_max_mb=… fd_growth_max=… caches_within_bounds=… -> PASS|FAIL
#
#   scripts/soak.sh [--release] [--requests 100000] [--warmup 10000] [--callers 1100] [--in-flight 1]
# Debug binaries by default (no release build needed); --release soaks the release ones.
# Environment: SOAK_PORT_BASE (default 3300: the certificate server, then one Runtime API
# emulator per function), CARGO_TARGET_DIR. Function logs go to target/soak/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$TARGET" == /* ]] || TARGET="$ROOT/$TARGET"
profile=debug
if [[ "${1:-}" == --release ]]; then profile=release; shift; fi
"$ROOT/scripts/standins.sh" start >&2
release=()
[[ "$profile" == release ]] && release=(--release)
# With infra in the set, the dependencies resolve as for halo-dev: no second build of the SDK.
cargo build --locked "${release[@]}" -p infra -p bench -p client-auth-verify -p public-anonymity-get -p anonymity-get --bins >&2
[[ "$profile" == debug ]] || cargo build --locked -p infra -p bench --bins >&2
exec "$TARGET/debug/soak" --bin-dir "$TARGET/$profile" --out "$TARGET/soak" \
    --port-base "${SOAK_PORT_BASE:-3300}" "$@"
