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
# our Lambda Runtime API emulator (ours interleaved with the peer's) at a full core and at
# Lambda's CPU share of each memory size, warm latency and CPU through the Lambda event path
# against the same storage calls made directly, SSM calls, sizes and memory; the stand-ins
# reached over HTTPS through local TLS fronts. It prints its tables; its last line is
#
#   bench: cold_ratio=… warm_overhead_ratio=… verify_fresh_us=… verify_repeat_us=… ssm_calls=… max_zip_mb=… max_rss_mb=… peer_cold_ratio=… peer_cold_ratio_as_written=… cold_extra_ms=… max_sequential_calls=… cold_cpu_ms=… warm_cpu_us=… peer_cold_cpu_ratio=… peer_warm_cpu_ratio=… cold_p50_ms_128=… peer_cold_ratio_128=… warm_p50_ms_256=… [max_arm64_zip_mb=…]
#
# Environment: BENCH_SPAWNS (cold starts per function, default 11), BENCH_WARM (measured
# warm invocations per function, default 400), BENCH_MEMORY (memory sizes whose CPU share
# is measured, default 128,256,512; needs writable cgroup v1 cpu/cpuacct, else left out),
# BENCH_SHARE_WARM (warm invocations measured at each share, default 100), BENCH_TLS=0
# (plain HTTP to the stand-ins), BENCH_PORTS (first-last: the port range of the driver's
# servers, default any free port), BENCH_ARM64=1 (cross-build the functions for
# arm64 and report their zip sizes; by default an up-to-date arm64 build is reported, and
# BENCH_ARM64=0 leaves them out), CARGO_TARGET_DIR. Outputs: target/bench/ (table.md, zips, function logs)
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
say "building release binaries ..."
verify_bench=$(cargo build --release --locked "${packages[@]}" -p bench-hello -p bench --bins --benches --features bench/criterion \
    --message-format=json-render-diagnostics | python3 "$ROOT/scripts/cargo-executable.py" verify || true)
[ -x "$verify_bench" ] || { say "the criterion bench was not built"; exit 1; }

# The peer after ours: a workspace of its own (its default features must not reach our
# functions), built into the same target directory with the same release profile.
say "building the peer (bench/peer) ..."
peer_started=$SECONDS
cargo build --release --locked --manifest-path "$ROOT/bench/peer/Cargo.toml" --target-dir "$TARGET" >&2
say "the peer built in $((SECONDS - peer_started)) s"

# The aarch64 zips (sizes only; arm64 is what the template deploys). A cold cross build is
# ~12 CPU-minutes here, more than the rest of a fresh-clone run can spare inside 15 minutes,
# so it runs only when asked (BENCH_ARM64=1); otherwise an up-to-date `make lambdas
# LAMBDA_ARCH=--arm64 LAMBDA_DIR=target/lambda-arm64` (or an earlier BENCH_ARM64=1 run) is
# reported, and a missing or stale one is said and left out. BENCH_ARM64=0 never reports it.
arm64_dir="$TARGET/lambda-arm64"
arm64_make=(make -C "$ROOT" --no-print-directory lambdas LAMBDA_ARCH=--arm64 LAMBDA_DIR="$arm64_dir")
arm64_args=()
case "${BENCH_ARM64:-auto}" in
0) ;;
1)
    say "building the functions for arm64 (${arm64_make[*]:4}) ..."
    "$ROOT/scripts/tools.sh" >/dev/null
    if "${arm64_make[@]}" >&2; then
        arm64_args=(--arm64-dir "$arm64_dir")
    else
        say "WARNING: the arm64 build failed; the table has no arm64 zip sizes"
    fi
    ;;
*)
    if [ -d "$arm64_dir" ] && "${arm64_make[@]}" -q 2>/dev/null; then
        say "arm64 zips from the up-to-date build in $arm64_dir"
        arm64_args=(--arm64-dir "$arm64_dir")
    else
        say "no up-to-date arm64 build in $arm64_dir: no arm64 zip sizes (BENCH_ARM64=1 builds them)"
    fi
    ;;
esac

say "token verification (criterion) ..."
export CRITERION_HOME="$TARGET/criterion"
rm -rf "$CRITERION_HOME/verify"
(cd "$ROOT/bench" && "$verify_bench" --bench) >&2

tls_args=()
if [ "${BENCH_TLS:-1}" = 0 ]; then tls_args=(--no-tls); fi
say "cold starts, warm latency and CPU, CPU shares, SSM, size, memory ..."
"$TARGET/release/bench-driver" \
    --bin-dir "$TARGET/release" \
    --out "$TARGET/bench" \
    --criterion "$CRITERION_HOME" \
    --spawns "${BENCH_SPAWNS:-11}" \
    --warm "${BENCH_WARM:-400}" \
    --memory "${BENCH_MEMORY:-128,256,512}" \
    --share-warm "${BENCH_SHARE_WARM:-100}" \
    --rie "$("$ROOT/scripts/tools.sh" rie x86_64)" \
    "${tls_args[@]}" \
    "${arm64_args[@]}"
