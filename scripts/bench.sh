#!/usr/bin/env bash
# The benchmark, in one command (see BENCHMARKS.md for what it measures and the figures):
#
#   scripts/bench.sh
#
# Starts the local stand-ins (DynamoDB Local, moto's SSM), builds the release binaries
# (the functions, a hello-world lambda_runtime function and the driver, one
# `cargo build --release`; then the peer, bench/peer, a workspace of its own, into the same
# target directory with the same profile), optionally the aarch64 builds (for their zip
# sizes), runs the criterion token-verification bench, then the driver: cold starts against
# our Lambda Runtime API emulator (ours interleaved with the peer's), warm latency through
# the Lambda event path against the same storage calls made directly, SSM calls, sizes and
# memory. It prints a table; its last line is
#
#   bench: cold_ratio=… warm_overhead_ratio=… verify_fresh_us=… verify_repeat_us=… ssm_calls=… max_zip_mb=… max_rss_mb=… peer_cold_ratio=… peer_cold_ratio_as_written=… cold_extra_ms=… max_sequential_calls=… [max_arm64_zip_mb=…]
#
# Environment: BENCH_SPAWNS (cold starts per function, default 11), BENCH_WARM (measured
# warm invocations per function, default 400), BENCH_ARM64=0 (skip the aarch64 build and
# its zip sizes), CARGO_TARGET_DIR. Outputs: target/bench/ (table.md, zips, function logs)
# and target/criterion/.
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

# The peer after ours: a workspace of its own (its default features must not reach our
# functions), built into the same target directory with the same release profile.
echo "bench.sh: building the peer (bench/peer) ..." >&2
peer_started=$SECONDS
cargo build --release --locked --manifest-path "$ROOT/bench/peer/Cargo.toml" --target-dir "$TARGET" >&2
echo "bench.sh: the peer built in $((SECONDS - peer_started)) s" >&2

# The aarch64 builds, for their zip sizes only; a failed cross build leaves them out.
arm64_args=()
if [ "${BENCH_ARM64:-1}" != 0 ]; then
    echo "bench.sh: building the functions for arm64 (make lambdas LAMBDA_ARCH=--arm64) ..." >&2
    if make -C "$ROOT" lambdas LAMBDA_ARCH=--arm64 LAMBDA_DIR="$TARGET/lambda-arm64" >&2; then
        arm64_args=(--arm64-dir "$TARGET/lambda-arm64")
    else
        echo "bench.sh: WARNING: the arm64 build failed; the table has no arm64 zip sizes (BENCH_ARM64=0 skips it)" >&2
    fi
fi

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
    --warm "${BENCH_WARM:-400}" \
    "${arm64_args[@]}"
