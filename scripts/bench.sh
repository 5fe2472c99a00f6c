#!/usr/bin/env bash
# The benchmark, in one command (see BENCHMARKS.md for what it measures and the figures):
#
#   scripts/bench.sh
#
# Starts the local stand-ins (DynamoDB Local, moto's SSM), builds the release binaries
# (the fourteen functions, a hello-world lambda_runtime function and the driver, one
# `cargo build --release`), runs the criterion token-verification bench, then the driver:
# cold starts against our Lambda Runtime API emulator, warm latency through the Lambda
# event path against the same storage calls made directly, SSM calls, sizes and memory.
# It prints a table; its last line is
#
#   bench: cold_ratio=… warm_overhead_ratio=… verify_fresh_us=… verify_repeat_us=… ssm_calls=… max_zip_mb=… max_rss_mb=…
#
# Environment: BENCH_SPAWNS (cold starts per function, default 11), BENCH_WARM (measured
# warm invocations per function, default 400), CARGO_TARGET_DIR. Outputs: target/bench/
# (table.md, zips, function logs) and target/criterion/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
export BENCH_STARTED="${BENCH_STARTED:-$(date +%s)}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

"$ROOT/scripts/standins.sh" start >&2

packages=()
for dir in "$ROOT"/functions/*/; do packages+=(-p "$(basename "$dir")"); done
# One build for everything, criterion bench included: a separate `cargo bench` would
# resolve features for another package set and rebuild much of the dependency graph.
echo "bench.sh: building release binaries ..." >&2
verify_bench=$(cargo build --release --locked "${packages[@]}" -p bench-hello -p bench --bins --benches --features bench/criterion \
    --message-format=json-render-diagnostics | python3 "$ROOT/scripts/cargo-executable.py" verify || true)
[ -x "$verify_bench" ] || { echo "bench.sh: the criterion bench was not built" >&2; exit 1; }

echo "bench.sh: token verification (criterion) ..." >&2
export CRITERION_HOME="$TARGET/criterion"
rm -rf "$CRITERION_HOME/verify"
(cd "$ROOT/bench" && "$verify_bench" --bench) >&2

echo "bench.sh: cold starts, warm latency, SSM, size, memory ..." >&2
"$TARGET/release/bench-driver" \
    --bin-dir "$TARGET/release" \
    --out "$TARGET/bench" \
    --criterion "$CRITERION_HOME" \
    --spawns "${BENCH_SPAWNS:-11}" \
    --warm "${BENCH_WARM:-400}"
