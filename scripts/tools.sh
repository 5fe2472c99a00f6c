#!/usr/bin/env bash
# The deployment tools, installed by the project into the git-ignored
# .local/venv-tools (a Python venv, from PyPI, versions pinned here):
#   sam           AWS SAM CLI: sam validate --lint, sam build, sam deploy
#   cargo-lambda  cargo lambda build / watch (the PyPI package ships the binary)
#   zig           the linker cargo-lambda uses to target Lambda's glibc (ziglang)
# and, from crates.io into .local/cargo-tools (built from source once, about 5 CPU-minutes):
#   cargo-machete the unused-dependency check scripts/test.sh runs
# and, through rustup, the Rust standard library for aarch64-unknown-linux-gnu, which
# `cargo lambda build --arm64` (the template's default architecture) links against.
#
#   scripts/tools.sh        install if needed, then say where the tools are
#   scripts/tools.sh env    install if needed, then print `export PATH=…` for eval
#   scripts/tools.sh rie [x86_64|arm64]
#                           install if needed, then print the path of AWS's Lambda Runtime
#                           Interface Emulator (static binaries inside the aws-sam-cli wheel;
#                           sam local runs them in its containers) for that architecture
#
# Idempotent: when the pinned versions are already there it returns at once.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VENV="${TOOLS_VENV:-$ROOT/.local/venv-tools}"
SAM_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2
# cargo-lambda (cargo-zigbuild) is known to work with the 0.15 series; 0.16 changed zig's CLI.
ZIG_VERSION=0.15.2
STAMP="$VENV/.installed-sam-$SAM_VERSION-cargo-lambda-$CARGO_LAMBDA_VERSION-zig-$ZIG_VERSION"

if [[ ! -f "$STAMP" ]]; then
    started=$(date +%s)
    say "installing aws-sam-cli $SAM_VERSION, cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIG_VERSION into $VENV"
    python="${PYTHON:-python3}"
    [[ -x "$VENV/bin/python" ]] || "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "aws-sam-cli==$SAM_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIG_VERSION" >&2
    # cargo-zigbuild looks for `zig` on PATH; the ziglang wheel names its wrapper python-zig
    # (older wheels have none), so give it a plain `zig` that runs this venv's toolchain.
    cat >"$VENV/bin/zig" <<EOF
#!/bin/sh
exec "$VENV/bin/python" -m ziglang "\$@"
EOF
    chmod +x "$VENV/bin/zig"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
    say "installed in $(( $(date +%s) - started ))s"
fi

# cargo-machete finds dependencies a crate lists but never names; `cargo install` compiles it,
# so it has its own stamp and is built once per version. Unoptimised (--debug): it reads a few
# dozen manifests and sources in well under a second either way, and builds in a fraction of
# a release build's time.
CARGO_TOOLS="$ROOT/.local/cargo-tools"
MACHETE_VERSION=0.9.2
if [[ ! -x "$CARGO_TOOLS/bin/cargo-machete" || ! -f "$CARGO_TOOLS/.installed-cargo-machete-$MACHETE_VERSION" ]]; then
    started=$(date +%s)
    say "installing cargo-machete $MACHETE_VERSION into $CARGO_TOOLS (a source build)"
    cargo install --quiet --locked --debug --root "$CARGO_TOOLS" "cargo-machete@$MACHETE_VERSION" >&2
    rm -f "$CARGO_TOOLS"/.installed-cargo-machete-*
    touch "$CARGO_TOOLS/.installed-cargo-machete-$MACHETE_VERSION"
    say "cargo-machete installed in $(( $(date +%s) - started ))s"
fi

# Outside the venv stamp: rustup keeps its own state (another toolchain, a fresh ~/.rustup), and
# asking it is cheap. A warning, not a failure, when it cannot be added: sam validate and the
# tests need no arm64, and `cargo lambda build --arm64` names the missing target itself.
ARM64_TARGET=aarch64-unknown-linux-gnu
if command -v rustup >/dev/null; then
    if ! rustup target list --installed 2>/dev/null | grep -qx "$ARM64_TARGET"; then
        say "rustup target add $ARM64_TARGET (for cargo lambda build --arm64)"
        rustup target add "$ARM64_TARGET" >&2 ||
            say "could not add $ARM64_TARGET: arm64 builds (sam build's default) fail until it is added"
    fi
else
    say "no rustup: install the Rust standard library for $ARM64_TARGET yourself to build arm64"
fi

# The RIE binary for architecture $1 (x86_64 or arm64) in the SAM CLI's package.
rie() {
    local samcli
    samcli=$("$VENV/bin/python" -c 'import os, samcli; print(os.path.dirname(samcli.__file__))')
    [[ -x "$samcli/local/rapid/aws-lambda-rie-$1" ]] || { say "no aws-lambda-rie-$1 in $samcli/local/rapid"; exit 1; }
    echo "$samcli/local/rapid/aws-lambda-rie-$1"
}

case "${1:-where}" in
    env)
        echo "export PATH=\"$VENV/bin:$CARGO_TOOLS/bin:\$PATH\""
        # SAM CLI: no usage telemetry from developers' machines or CI.
        echo "export SAM_CLI_TELEMETRY=0"
        ;;
    where)
        echo "sam:          $VENV/bin/sam ($SAM_VERSION)"
        echo "cargo-lambda: $VENV/bin/cargo-lambda ($CARGO_LAMBDA_VERSION)"
        echo "zig:          $VENV/bin/zig ($ZIG_VERSION)"
        echo "machete:      $CARGO_TOOLS/bin/cargo-machete ($MACHETE_VERSION)"
        echo "rust std:     $ARM64_TARGET (for --arm64)"
        echo "rie:          $(rie x86_64) (and -arm64)"
        echo "use them with: eval \"\$(scripts/tools.sh env)\""
        ;;
    rie)
        rie "${2:-x86_64}"
        ;;
    *)
        say "usage: scripts/tools.sh [where|env|rie [x86_64|arm64]]"
        exit 2
        ;;
esac
