#!/usr/bin/env bash
# `sam local start-api` on this machine: the template's own functions and API events, built by
# `sam build` as the template says, each invoked in a Lambda container by AWS's RIE, against
# DynamoDB Local and moto on the host network.
#
#   scripts/sam-local.sh           serve both APIs on 127.0.0.1:$SAM_LOCAL_PORT until Ctrl-C
#   scripts/sam-local.sh --smoke   tour every route through it and through the local gateway
#                                  (`halo-dev serve`), compare, stop; last line
#                                  `sam-local: N passed, M failed`
#
# What it sets up, stopping at the end only what it started:
#   Docker      Debian's docker.io (apt-get) when there is no dockerd; when none answers, starts
#               `dockerd --storage-driver=vfs --iptables=false --bridge=none` (what works in a
#               container without privileges to make a bridge).
#   base image  public.ecr.aws/lambda/provided:al2023-x86_64 when present or pullable; otherwise
#               a stand-in under that name, imported from Debian packages: libc6 and libgcc-s1
#               (what the bootstrap links against), busybox-static (the shell SAM's image build
#               runs), the directories Lambda has. SAM adds the RIE from its own wheel on top
#               (its image public.ecr.aws/lambda/provided:al2023-rapid-x86_64), and runs with
#               --skip-pull-image.
#   network     without a bridge, a container has only its own loopback; scripts/sam-docker-shim.py
#               gives SAM a Docker API socket that creates its Lambda containers on the host network
#               (see that file).
#   functions   `LAMBDA_ARCH=--x86-64 sam build --parameter-overrides Architecture=x86_64`: x86_64,
#               because arm64 would need qemu registered with binfmt_misc, which this kind of
#               machine does not have. A warm build takes seconds (make finds the stamp current).
#   stage       `halo-dev serve` on PUBLIC_PORT/INTERNAL_PORT with the dev certificate server on
#               DEV_CERTS_PORT (so dev tokens verify); the functions get STAGE=local, their own
#               TABLE_PREFIX and anonymity parameter (set up and seeded), and the stand-ins'
#               endpoints.
#
# Environment: SAM_LOCAL_PORT (3130), PUBLIC_PORT (3131), INTERNAL_PORT (3132), DEV_CERTS_PORT
#   (3133), DOCKER_SOCKET (/var/run/docker.sock), HALO_DEV (a halo-dev binary instead of this
#   checkout's build).
set -euo pipefail
export PUBLIC_PORT="${PUBLIC_PORT:-3131}" INTERNAL_PORT="${INTERNAL_PORT:-3132}" DEV_CERTS_PORT="${DEV_CERTS_PORT:-3133}"
unset FIREBASE_CERTS_URL # env.sh points it at DEV_CERTS_PORT
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
SAM_LOCAL_PORT="${SAM_LOCAL_PORT:-3130}"
DOCKER_SOCKET="${DOCKER_SOCKET:-/var/run/docker.sock}"
BASE_IMAGE=public.ecr.aws/lambda/provided:al2023-x86_64
OUT="$ROOT/.local/sam-local"
SMOKE=0
case "${1:-}" in
    --smoke) SMOKE=1 ;;
    "") ;;
    *) echo "usage: scripts/sam-local.sh [--smoke]" >&2; exit 2 ;;
esac
say() { echo "sam-local.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
started=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT"

DOCKERD_PID="" SHIM_PID="" SAM_PID=""
standins_started="$OUT/standins-started"
cleanup() {
    stop_sam
    # The containers SAM left: only those the shim labelled for this run.
    if [[ -n "$SHIM_PID" ]]; then
        docker ps -aq --filter "label=halobestie.sam-local=$$" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
    fi
    stop_session "$SHIM_PID" 2
    stop_dev_server
    if [[ -n "$DOCKERD_PID" ]]; then
        kill -TERM "$DOCKERD_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    local own=()
    [[ -f "$standins_started" ]] && mapfile -t own <"$standins_started"
    if ((${#own[@]})); then "$ROOT/scripts/standins.sh" stop "${own[@]}" >/dev/null 2>&1 || true; fi
}
# TERM, as SAM started in the background ignores SIGINT; the containers it leaves go in the
# label sweep below.
stop_sam() {
    [[ -n "$SAM_PID" ]] && kill -0 "$SAM_PID" 2>/dev/null || return 0
    kill -TERM -- "-$SAM_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SAM_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$SAM_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_install() {
    [[ $(id -u) == 0 ]] || die "needs Debian packages $* (apt-get install them as root)"
    say "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "$@" >"$OUT/apt.log" 2>&1 ||
        { apt-get update -qq >>"$OUT/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends "$@" >>"$OUT/apt.log" 2>&1; } ||
        { cat "$OUT/apt.log" >&2; die "apt-get install $* failed"; }
}

docker_up() {
    local needs=()
    command -v dockerd >/dev/null || needs+=(docker.io)
    [[ -x /bin/busybox ]] || needs+=(busybox-static)
    ((${#needs[@]} == 0)) || apt_install "${needs[@]}"
    export DOCKER_HOST="unix://$DOCKER_SOCKET"
    if docker info >/dev/null 2>&1; then
        say "using the Docker daemon already on $DOCKER_SOCKET"
        return
    fi
    say "starting dockerd (vfs storage, no iptables, no bridge)"
    setsid dockerd --storage-driver=vfs --iptables=false --bridge=none --host "unix://$DOCKER_SOCKET" \
        --pidfile "$OUT/dockerd.pid" </dev/null >"$OUT/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 300); do docker info >/dev/null 2>&1 && return; sleep 0.1; done
    tail -n 20 "$OUT/dockerd.log" >&2
    die "dockerd did not come up"
}

# A rootfs from the Debian packages the bootstrap needs, imported as the base image SAM expects.
stand_in_image() {
    local rootfs="$OUT/rootfs" tool
    say "building a stand-in for $BASE_IMAGE from Debian's libc6, libgcc-s1 and busybox-static"
    mkdir -p "$rootfs"/{bin,tmp,var/task,var/runtime,opt,etc}
    dpkg -L libc6 libgcc-s1 | grep -v '^/usr/share/' | while read -r path; do
        if [[ -f "$path" ]]; then echo "$path"; fi
    done | tar -c -P -T - | tar -x -C "$rootfs" 2>/dev/null
    cp /bin/busybox "$rootfs/bin/busybox"
    for tool in sh mv chmod cp ls cat; do ln -s busybox "$rootfs/bin/$tool"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    chmod 1777 "$rootfs/tmp"
    tar -C "$rootfs" -c . | docker import --change 'WORKDIR /var/task' \
        --change 'LABEL halobestie.stand-in="Debian libc6, libgcc-s1, busybox-static"' - "$BASE_IMAGE" >/dev/null
}

stand_in_label() { docker image inspect -f '{{index .Config.Labels "halobestie.stand-in"}}' "$BASE_IMAGE" 2>/dev/null; }

# The real image when it is here or can be pulled (replacing a stand-in, and SAM's image built on
# it), else the stand-in.
base_image() {
    local present=0
    docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && present=1
    if ((present)) && [[ -z "$(stand_in_label)" ]]; then
        say "using the real $BASE_IMAGE, already here"
    elif timeout 120 docker pull -q "$BASE_IMAGE" >"$OUT/pull.log" 2>&1; then
        say "pulled the real $BASE_IMAGE"
        docker rmi "${BASE_IMAGE/al2023-/al2023-rapid-}" >/dev/null 2>&1 || true
    else
        say "cannot pull $BASE_IMAGE ($(tail -n1 "$OUT/pull.log"))"
        if ((present)); then say "using the stand-in already here ($(stand_in_label))"; else stand_in_image; fi
    fi
}

docker_up
base_image
"$ROOT/scripts/tools.sh" >/dev/null
eval "$("$ROOT/scripts/tools.sh" env)"

build_started=$(date +%s)
say "sam build (x86_64)"
LAMBDA_ARCH=--x86-64 sam build --parameter-overrides Architecture=x86_64 >"$OUT/build.log" 2>&1 ||
    { tail -n 30 "$OUT/build.log" >&2; die "sam build failed"; }
say "built in $(($(date +%s) - build_started))s"

# The gateway (and with it the dev certificate server) on its own stage; SAM's functions on theirs.
start_private_stage gw "$OUT/gateway.log" "set PUBLIC_PORT / INTERNAL_PORT / DEV_CERTS_PORT" --record "$standins_started"
SAM_TABLE_PREFIX="halobestie-sam-$$"
SAM_ANONYMITY_PARAMETER="/halobestie/sam-$$/anonymity_enabled"
TABLE_PREFIX="$SAM_TABLE_PREFIX" ANONYMITY_PARAMETER="$SAM_ANONYMITY_PARAMETER" "$DEV" setup >"$OUT/setup.log" 2>&1 ||
    { cat "$OUT/setup.log" >&2; die "halo-dev setup failed"; }

# What the template declares, through SAM's own --env-vars; the rest through the shim.
cat >"$OUT/env-vars.json" <<JSON
{ "Parameters": { "STAGE": "local", "FIREBASE_PROJECT_ID": "$FIREBASE_PROJECT_ID",
  "TABLE_PREFIX": "$SAM_TABLE_PREFIX", "ANONYMITY_PARAMETER": "$SAM_ANONYMITY_PARAMETER",
  "RUST_LOG": "warn", "CORS_ALLOWED_ORIGINS": "http://localhost:5173" } }
JSON
cat >"$OUT/container.env" <<ENV
AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
AWS_ENDPOINT_URL_SSM=$AWS_ENDPOINT_URL_SSM
FIREBASE_CERTS_URL=$FIREBASE_CERTS_URL
ENV
SHIM_SOCKET="$OUT/docker.sock"
setsid python3 "$ROOT/scripts/sam-docker-shim.py" "$SHIM_SOCKET" "$DOCKER_SOCKET" "$OUT/container.env" "$$" \
    </dev/null >"$OUT/shim.log" 2>&1 &
SHIM_PID=$!
for _ in $(seq 50); do [[ -S "$SHIM_SOCKET" ]] && break; sleep 0.1; done

port_taken "$SAM_LOCAL_PORT" && die "port $SAM_LOCAL_PORT is taken; set SAM_LOCAL_PORT"
say "sam local start-api on 127.0.0.1:$SAM_LOCAL_PORT"
DOCKER_HOST="unix://$SHIM_SOCKET" setsid sam local start-api --host 127.0.0.1 --port "$SAM_LOCAL_PORT" \
    --skip-pull-image --warm-containers LAZY --env-vars "$OUT/env-vars.json" \
    --parameter-overrides Architecture=x86_64 FirebaseProjectId="$FIREBASE_PROJECT_ID" \
    VpcEndpointId=vpce-0123456789abcdef0 PublicCorsAllowedOrigins=http://localhost:5173 \
    InternalCorsAllowedOrigins=http://localhost:5173 </dev/null >"$OUT/sam.log" 2>&1 &
SAM_PID=$!
disown "$SAM_PID" # its end is reported by the checks below, not by the shell
deadline=$((SECONDS + 120))
until port_taken "$SAM_LOCAL_PORT"; do
    kill -0 "$SAM_PID" 2>/dev/null && ((SECONDS < deadline)) || { tail -n 30 "$OUT/sam.log" >&2; die "sam local start-api did not come up"; }
    sleep 0.3
done
say "up after $(($(date +%s) - started))s; SAM's log: ${OUT#"$ROOT"/}/sam.log"

if ((SMOKE)); then
    smoke_started=$(date +%s)
    set +e
    python3 "$ROOT/scripts/sam-local-smoke.py" "$DEV" "http://127.0.0.1:$SAM_LOCAL_PORT" \
        "http://127.0.0.1:$PUBLIC_PORT" "http://127.0.0.1:$INTERNAL_PORT" | tee "$OUT/smoke.log"
    status=${PIPESTATUS[0]}
    set -e
    say "tour took $(($(date +%s) - smoke_started))s, the whole run $(($(date +%s) - started))s"
    tail -n1 "$OUT/smoke.log"
    exit "$status"
fi
echo "sam local start-api: http://127.0.0.1:$SAM_LOCAL_PORT (public /api/... and internal /internal/...)"
echo "the local gateway:   http://127.0.0.1:$PUBLIC_PORT and http://127.0.0.1:$INTERNAL_PORT"
echo "a token to try:      $("$DEV" token admin)"
echo "Ctrl-C stops both."
while kill -0 "$SAM_PID" 2>/dev/null; do sleep 1; done
