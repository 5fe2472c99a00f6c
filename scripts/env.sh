# Sourced by run.sh and test.sh: the local stage's environment, each value
# overridable from the caller's environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
eval "$("$ROOT/scripts/standins.sh" env)"
export STAGE="${STAGE:-local}"
export FIREBASE_PROJECT_ID="${FIREBASE_PROJECT_ID:-halobestie-local}"
export DEV_CERTS_PORT="${DEV_CERTS_PORT:-3002}"
export FIREBASE_CERTS_URL="${FIREBASE_CERTS_URL:-http://127.0.0.1:$DEV_CERTS_PORT/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com}"
export SUPER_ADMIN_EMAIL="${SUPER_ADMIN_EMAIL:-admin@halobestie.com}"
export PUBLIC_PORT="${PUBLIC_PORT:-3000}"
export INTERNAL_PORT="${INTERNAL_PORT:-3001}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Builds halo-dev as `cargo test --workspace` builds it (infra's integration tests run it)
# and prints its path. run.sh, test.sh and schemathesis.sh then share one build: building
# it alone (`cargo build -p infra`) resolves other features and recompiles much of the SDK.
halo_dev_bin() {
    cargo test --workspace --locked --no-run --message-format=json-render-diagnostics |
        python3 "$ROOT/scripts/cargo-executable.py" halo-dev
}
